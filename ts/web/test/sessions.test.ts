import type { SessionInfo } from "@pizzapi/protocol";
import { describe, expect, it } from "vitest";
import { added, byStart, removed, status } from "../src/sessions";

const session = (id: string, startedAt: string, extra: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: id,
  shareUrl: `http://relay/session/${id}`,
  cwd: `/w/${id}`,
  startedAt,
  sessionName: null,
  isEphemeral: true,
  isActive: false,
  lastHeartbeatAt: null,
  model: null,
  runnerId: null,
  runnerName: null,
  ...extra,
});

describe("the live session list", () => {
  const a = session("a", "2026-01-01T10:00:00Z", { viewerCount: 2, runnerId: "r1", runnerName: "box" });
  const b = session("b", "2026-01-01T11:00:00Z");

  it("adds, replaces a re-registered session, and removes", () => {
    const list = added(added([a], b), { ...a, cwd: "/new" });
    expect(list.map((s) => [s.sessionId, s.cwd])).toEqual([
      ["b", "/w/b"],
      ["a", "/new"],
    ]);
    expect(removed(list, "b").map((s) => s.sessionId)).toEqual(["a"]);
  });

  it("applies a status change and keeps the runner and viewer count when they are absent", () => {
    const model = { provider: "anthropic", id: "claude" };
    const [s] = status([a], { sessionId: "a", isActive: true, lastHeartbeatAt: "2026-01-01T10:01:00Z", sessionName: "named", model });
    expect(s).toMatchObject({ isActive: true, sessionName: "named", model, viewerCount: 2, runnerId: "r1", runnerName: "box" });
    const [t] = status([a], { sessionId: "a", isActive: false, lastHeartbeatAt: null, sessionName: null, model: null, viewerCount: 0, runnerId: null, runnerName: null });
    expect(t).toMatchObject({ viewerCount: 0, runnerId: null, runnerName: null });
  });

  it("leaves other sessions alone and sorts newest first", () => {
    expect(status([b], { sessionId: "a", isActive: true, lastHeartbeatAt: null, sessionName: null, model: null })[0]).toBe(b);
    expect(byStart([a, b]).map((s) => s.sessionId)).toEqual(["b", "a"]);
  });
});
