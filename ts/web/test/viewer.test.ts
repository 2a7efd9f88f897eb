import type { viewer } from "@pizzapi/protocol";
import { beforeEach, describe, expect, it, vi } from "vitest";

// A stand-in for the viewer socket: records what the page emits and lets the test play the relay.
class FakeSocket {
  readonly emitted: [string, unknown][] = [];
  readonly handlers = new Map<string, (payload: never) => void>();
  ack: viewer.CommandAck = { ok: true };
  active = true;
  on(event: string, f: (payload: never) => void) {
    this.handlers.set(event, f);
  }
  emit(event: string, payload: unknown) {
    this.emitted.push([event, payload]);
  }
  timeout() {
    return { emitWithAck: async (event: string, payload: unknown) => (this.emit(event, payload), this.ack) };
  }
  /** The relay sends an event. */
  serve<E extends keyof viewer.ServerToClientEvents | "connect_error">(
    event: E,
    payload: E extends keyof viewer.ServerToClientEvents ? Parameters<viewer.ServerToClientEvents[E]>[0] : Error,
  ) {
    const f = this.handlers.get(event);
    if (!f) throw new Error(`no handler for ${event}`);
    f(payload as never);
  }
}

const opened: { socket: FakeSocket; auth: () => viewer.Auth; close: ReturnType<typeof vi.fn>; release: ReturnType<typeof vi.fn> }[] = [];

vi.mock("../src/sockets", () => ({
  connectViewer: (auth: () => viewer.Auth) => {
    const c = { socket: new FakeSocket(), auth, close: vi.fn(), release: vi.fn() };
    opened.push(c);
    return c;
  },
}));

const { openSession } = await import("../src/session/viewer");

const text = (t: string) => ({ type: "message_update", assistantMessageEvent: { type: "text_delta", contentIndex: 0, delta: t } });
const snapshot = { type: "session_active", state: { messages: [{ role: "user", content: "hi" }] } };

beforeEach(() => {
  opened.length = 0;
});

describe("openSession", () => {
  it("greets after connected, applies the snapshot and live events, and reconnects with the last seq", () => {
    const view = openSession("s1");
    const c = opened[0]!;
    expect(c.auth()).toEqual({ sessionId: "s1" });
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 5, isActive: true, sessionName: "demo" });
    expect(c.socket.emitted).toEqual([["connected", {}]]);
    c.socket.serve("event", { event: snapshot, seq: 5 });
    c.socket.serve("event", { event: text("Hel"), seq: 6 });
    c.socket.serve("event", { event: text("lo"), seq: 7 });
    expect(view.phase.value).toEqual({ kind: "live" });
    expect(view.state.value).toMatchObject({ active: true, sessionName: "demo" });
    expect(view.state.value.messages.map((m) => m.blocks)).toEqual([[{ kind: "text", text: "hi" }], [{ kind: "text", text: "Hello" }]]);
    expect(c.auth()).toEqual({ sessionId: "s1", lastSeq: 7 });
  });

  it("asks for a resync with the last applied seq on a gap and applies the replayed events", () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 1 });
    c.socket.serve("event", { event: text("a"), seq: 2 });
    c.socket.serve("event", { event: text("d"), seq: 5 });
    expect(c.socket.emitted.at(-1)).toEqual(["resync", { lastSeq: 2 }]);
    for (const [seq, t] of [[3, "b"], [4, "c"], [5, "d"]] as const) c.socket.serve("event", { event: text(t), seq });
    expect(view.state.value.messages[0]?.blocks).toEqual([{ kind: "text", text: "abcd" }]);
  });

  it("shows an ended session and closes its socket", () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 0, isActive: true });
    c.socket.serve("disconnected", { reason: "Session ended", code: "session_ended" });
    expect(view.phase.value).toEqual({ kind: "ended", reason: "Session ended" });
    expect(view.state.value.active).toBe(false);
    expect(c.close).toHaveBeenCalled();
  });

  it("replays an ended session without greeting, and leaves closing to the relay", () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", replayOnly: true });
    c.socket.serve("event", { event: snapshot });
    c.socket.serve("disconnected", { reason: "Session is no longer live (snapshot replay).", code: "replay_only" });
    expect(view.phase.value).toEqual({ kind: "replay" });
    expect(view.state.value.messages).toHaveLength(1);
    expect(c.socket.emitted).toEqual([]);
    expect(c.release).toHaveBeenCalled();
    expect(c.close).not.toHaveBeenCalled();
  });

  it("follows a session that registered again from a fresh connection", () => {
    openSession("s1");
    opened[0]!.socket.serve("connected", { sessionId: "s1", lastSeq: 9 });
    opened[0]!.socket.serve("disconnected", { reason: "Session reconnected", code: "session_reconnected" });
    expect(opened).toHaveLength(2);
    expect(opened[1]!.auth()).toEqual({ sessionId: "s1" });
  });

  it("decides on the disconnected code, not on the reason text", () => {
    const followed = openSession("s1");
    opened[0]!.socket.serve("connected", { sessionId: "s1", lastSeq: 9 });
    opened[0]!.socket.serve("disconnected", { reason: "Sitzung neu verbunden", code: "session_reconnected" });
    expect(opened).toHaveLength(2);
    expect(followed.phase.value).toEqual({ kind: "connecting" });
    const ended = openSession("s2");
    opened[2]!.socket.serve("connected", { sessionId: "s2", lastSeq: 1 });
    opened[2]!.socket.serve("disconnected", { reason: "Session reconnected", code: "session_expired" });
    expect(opened).toHaveLength(3);
    expect(ended.phase.value).toEqual({ kind: "ended", reason: "Session reconnected" });
    expect(opened[2]!.close).toHaveBeenCalled();
  });

  it("waits for a session that does not exist yet, and opens it again on request", () => {
    const view = openSession("s1");
    opened[0]!.socket.serve("error", { code: "session_not_found", message: "Session not found" });
    expect(view.phase.value).toEqual({ kind: "missing" });
    view.reopen();
    expect(view.phase.value).toEqual({ kind: "connecting" });
    expect(opened).toHaveLength(2);
  });

  it("decides on the error code, not on the message", () => {
    const missing = openSession("s1");
    opened[0]!.socket.serve("error", { code: "session_not_found", message: "Sitzung nicht gefunden" });
    expect(missing.phase.value).toEqual({ kind: "missing" });
    const failed = openSession("s2");
    opened[1]!.socket.serve("error", { code: "unavailable", message: "Session not found" });
    expect(failed.phase.value).toEqual({ kind: "failed", message: "Session not found" });
  });

  it("says that a refused handshake cannot view the session, by its code", () => {
    const refused = openSession("s1");
    const c = opened[0]!;
    c.socket.active = false;
    c.socket.serve("connect_error", Object.assign(new Error("not allowed"), { data: { code: "unauthorized", message: "not allowed" } }));
    expect(refused.phase.value).toEqual({ kind: "failed", message: "You cannot view this session." });
    const other = openSession("s2");
    opened[1]!.socket.active = false;
    opened[1]!.socket.serve("connect_error", Object.assign(new Error("unauthorized"), { data: { code: "invalid", message: "unauthorized" } }));
    expect(other.phase.value).toEqual({ kind: "failed", message: "unauthorized" });
  });

  it("sends input, stop and model changes, and shows a refusal or an exec result", async () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 0 });
    const attachments = [{ attachmentId: "a1", filename: "notes.txt", mediaType: "text/plain" }];
    expect(await view.send("add a test", attachments)).toBe(true);
    expect(c.socket.emitted.at(-1)).toEqual(["input", { text: "add a test", attachments, client: "web" }]);
    expect(await view.setModel({ provider: "openai", id: "gpt-5" })).toBe(true);
    expect(c.socket.emitted.at(-1)).toEqual(["model_set", { provider: "openai", modelId: "gpt-5" }]);
    c.socket.ack = { ok: false, code: "collab_disabled", error: "collab mode is off for this session" };
    expect(await view.abort()).toBe(false);
    expect(c.socket.emitted.at(-1)).toMatchObject(["exec", { command: "abort" }]);
    expect(view.state.value.notice).toEqual({ text: "Could not stop the agent: collab mode is off for this session", tone: "error" });
  });

  it("runs an exec command and resolves it with the exec_result of its id", async () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 0 });
    const done = view.exec({ command: "set_session_name", name: "auth bug" });
    await Promise.resolve();
    const [event, payload] = c.socket.emitted.at(-1) as [string, { id: string; command: string; name: string }];
    expect(event).toBe("exec");
    expect(payload).toMatchObject({ command: "set_session_name", name: "auth bug" });
    expect(payload.id).toMatch(/^web-/);
    // Another command's result does not resolve it.
    c.socket.serve("exec_result", { id: "other", ok: true, command: "set_session_name" });
    c.socket.serve("exec_result", { id: payload.id, ok: true, command: "set_session_name", result: { sessionName: "auth bug" } });
    expect(await done).toEqual({ ok: true, result: { sessionName: "auth bug" } });

    const failing = view.exec({ command: "export_html" });
    await Promise.resolve();
    const id = (c.socket.emitted.at(-1)?.[1] as { id: string }).id;
    c.socket.serve("exec_result", { id, ok: false, command: "export_html", error: "not implemented" });
    expect(await failing).toEqual({ ok: false, error: "not implemented" });

    const unknown = view.exec({ command: "export_html" });
    await Promise.resolve();
    const id2 = (c.socket.emitted.at(-1)?.[1] as { id: string }).id;
    c.socket.serve("exec_result", { id: id2, ok: false, command: "export_html", code: "unsupported", error: "Unknown exec command: export_html" });
    expect(await unknown).toEqual({ ok: false, code: "unsupported", error: "Unknown exec command: export_html" });

    c.socket.ack = { ok: false, code: "collab_disabled", error: "Collab mode is off" };
    expect(await view.exec({ command: "abort" })).toEqual({ ok: false, code: "collab_disabled", error: "Collab mode is off" });
  });

  it("keeps steer and follow-up messages queued until the transcript shows them", async () => {
    const view = openSession("s1");
    const c = opened[0]!;
    c.socket.serve("connected", { sessionId: "s1", lastSeq: 0, isActive: true });
    expect(await view.send("use the fake clock", [], "steer")).toBe(true);
    expect(c.socket.emitted.at(-1)).toEqual(["input", { text: "use the fake clock", client: "web", deliverAs: "steer" }]);
    expect(await view.send("then update the docs", [], "followUp")).toBe(true);
    expect(view.queued.value.map((q) => [q.text, q.deliverAs])).toEqual([
      ["use the fake clock", "steer"],
      ["then update the docs", "followUp"],
    ]);
    c.socket.serve("event", { event: { type: "message_end", message: { role: "user", content: [{ type: "text", text: "use the fake clock" }] } }, seq: 1 });
    expect(view.queued.value.map((q) => q.text)).toEqual(["then update the docs"]);
    // Stopping the agent drops what it had queued.
    const stopping = view.abort();
    await Promise.resolve();
    const id = (c.socket.emitted.at(-1)?.[1] as { id: string }).id;
    c.socket.serve("exec_result", { id, ok: true, command: "abort" });
    expect(await stopping).toBe(true);
    expect(view.queued.value).toEqual([]);
    expect(view.state.value.notice).toEqual({ text: "Agent stopped.", tone: "info" });
  });

  it("times live heartbeats but not the one of the snapshot", () => {
    const view = openSession("s1");
    const c = opened[0]!;
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      // The relay's time of the last heartbeat is not used: its clock may differ from this one.
      c.socket.serve("connected", { sessionId: "s1", lastSeq: 4, lastHeartbeatAt: "2020-01-01T00:00:00.000Z" });
      expect(view.heartbeatAt.value).toBe(1_000_000);
      vi.setSystemTime(1_020_000);
      c.socket.serve("event", { event: { type: "heartbeat", active: false }, seq: 4 });
      expect(view.heartbeatAt.value).toBe(1_000_000);
      c.socket.serve("event", { event: { type: "heartbeat", active: true }, seq: 5 });
      expect(view.heartbeatAt.value).toBe(1_020_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
