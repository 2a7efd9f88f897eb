import { describe, expect, it } from "vitest";
import { editsOf, exitCode, firstLineOf, pathArg, todoItems, toolKind, withoutExitLine } from "../src/session/tools";
import { groupByRunner, matches } from "../src/sessions";
import { isStale, staleAfterMs } from "../src/session/Usage";
import { imageType, parentOf } from "../src/workspace/Files";
import { describeStatus } from "../src/workspace/Git";
import type { SessionInfo } from "@pizzapi/protocol";

describe("tool cards", () => {
  it("picks the card by tool name", () => {
    expect(["bash", "read", "edit", "write", "todo_write", "AskUserQuestion", "web_search"].map(toolKind)).toEqual(["bash", "read", "edit", "write", "todo", "question", "generic"]);
  });

  it("reads paths, edits and read offsets from the arguments", () => {
    expect(pathArg({ path: "a.go" })).toBe("a.go");
    expect(pathArg({ file_path: "b.go" })).toBe("b.go");
    expect(editsOf({ path: "a", oldText: "x", newText: "y" })).toEqual([{ before: "x", after: "y" }]);
    expect(editsOf({ edits: [{ oldText: "1", newText: "2" }, { oldText: "3", newText: "4" }] })).toEqual([
      { before: "1", after: "2" },
      { before: "3", after: "4" },
    ]);
    expect(editsOf({ path: "a" })).toEqual([]);
    expect(firstLineOf({ offset: 40 })).toBe(40);
    expect(firstLineOf({})).toBe(1);
  });

  it("finds a bash run's exit status", () => {
    expect(exitCode("FAIL\n\nCommand exited with code 1", "failed")).toBe(1);
    expect(exitCode("ok", "done")).toBe(0);
    expect(exitCode("", "running")).toBeNull();
    expect(withoutExitLine("FAIL\n\nCommand exited with code 2\n")).toBe("FAIL");
  });

  it("lists todo items", () => {
    expect(todoItems({ todos: [{ content: "a", status: "completed" }, { text: "b" }, { nope: 1 }] })).toEqual([
      { text: "a", status: "completed" },
      { text: "b", status: "pending" },
    ]);
  });
});

const session = (id: string, over: Partial<SessionInfo>): SessionInfo => ({
  sessionId: id,
  shareUrl: "",
  cwd: `/work/${id}`,
  startedAt: "2026-01-01T00:00:00Z",
  sessionName: null,
  isEphemeral: true,
  isActive: false,
  lastHeartbeatAt: null,
  model: null,
  runnerId: null,
  runnerName: null,
  ...over,
});

describe("session list", () => {
  const list = [
    session("a", { runnerId: "r2", runnerName: "zeta", startedAt: "2026-01-01T00:00:01Z" }),
    session("b", { runnerId: "r1", runnerName: "alpha", sessionName: "Fix the auth bug" }),
    session("c", {}),
    session("d", { runnerId: "r2", runnerName: "zeta", startedAt: "2026-01-01T00:00:05Z" }),
  ];

  it("groups sessions by runner, runners by name, newest first, terminal shares last", () => {
    expect(groupByRunner(list).map((g) => [g.name, g.sessions.map((s) => s.sessionId)])).toEqual([
      ["alpha", ["b"]],
      ["zeta", ["d", "a"]],
      ["Not on a runner", ["c"]],
    ]);
  });

  it("searches every word in name, folder, model and runner", () => {
    expect(groupByRunner(list, "AUTH fix").flatMap((g) => g.sessions.map((s) => s.sessionId))).toEqual(["b"]);
    expect(groupByRunner(list, "zeta /work/a").flatMap((g) => g.sessions.map((s) => s.sessionId))).toEqual(["a"]);
    expect(matches(list[2]!, "")).toBe(true);
    expect(groupByRunner(list, "nothing")).toEqual([]);
  });
});

describe("workspace helpers", () => {
  it("knows stale heartbeats, images, parents and git statuses", () => {
    expect(isStale(null, 1e9)).toBe(false);
    expect(isStale(1000, 1000 + staleAfterMs)).toBe(false);
    expect(isStale(1000, 1001 + staleAfterMs)).toBe(true);
    expect(imageType("shot.PNG")).toBe("image/png");
    expect(imageType("main.go")).toBeNull();
    expect(parentOf("/w/a/b", "/w")).toBe("/w/a");
    expect(parentOf("/w/a", "/w")).toBe("/w");
    expect(parentOf("/w", "/w")).toBe("/w");
    expect(describeStatus(" M")).toBe("modified");
    expect(describeStatus("??")).toBe("untracked");
    expect(describeStatus("RM")).toBe("renamed, modified");
  });
});
