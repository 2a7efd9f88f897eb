// One session followed on /viewer: the snapshot and live events folded into a SessionState, gap
// detection with exact resync, reconnection with `auth.lastSeq`, and the collab-mode commands.

import type { Attachment, ModelInfo, viewer } from "@pizzapi/protocol";
import { signal, type ReadonlySignal } from "@preact/signals";
import { connectViewer, type Connection, type ViewerSocket } from "../sockets";
import { admit, connectedAt, unsequenced } from "./sequence";
import { applyEvent, initialState, type Notice, type SessionState } from "./state";

export type Phase =
  | { readonly kind: "connecting" }
  | { readonly kind: "live" }
  /** An ended session: only its stored snapshot is shown. */
  | { readonly kind: "replay" }
  | { readonly kind: "ended"; readonly reason: string }
  /** Neither live nor stored (yet: a session a runner is starting registers a moment later). */
  | { readonly kind: "missing" }
  | { readonly kind: "failed"; readonly message: string };

export interface SessionView {
  readonly state: ReadonlySignal<SessionState>;
  readonly phase: ReadonlySignal<Phase>;
  /** Sends viewer input; false (and a notice saying why) when the relay did not forward it. */
  send(text: string, attachments: Attachment[]): Promise<boolean>;
  /** Asks the agent to stop its current turn. */
  abort(): Promise<boolean>;
  setModel(m: ModelInfo): Promise<boolean>;
  /** Connects again from scratch (for a session that was missing and has registered since). */
  reopen(): void;
  close(): void;
}

const ackTimeoutMs = 10_000;
let execCounter = 0;

export function openSession(sessionId: string): SessionView {
  const state = signal<SessionState>(initialState);
  const phase = signal<Phase>({ kind: "connecting" });
  let seq = unsequenced;
  let conn = connect();

  function reopen(): void {
    conn.close();
    seq = unsequenced;
    state.value = initialState;
    phase.value = { kind: "connecting" };
    conn = connect();
  }

  function notify(notice: Notice): void {
    state.value = { ...state.value, notice };
  }

  function connect(): Connection<ViewerSocket> {
    const c = connectViewer(() => (seq.lastSeq === null ? { sessionId } : { sessionId, lastSeq: seq.lastSeq }));
    const s = c.socket;
    s.on("connected", (p) => {
      seq = connectedAt(p.lastSeq);
      phase.value = p.replayOnly ? { kind: "replay" } : { kind: "live" };
      state.value = {
        ...state.value,
        active: p.isActive ?? state.value.active,
        sessionName: p.sessionName === undefined ? state.value.sessionName : p.sessionName,
      };
      if (!p.replayOnly) s.emit("connected", {});
    });
    s.on("event", ({ event, seq: n }) => {
      const [next, verdict] = admit(seq, n, event.type);
      seq = next;
      if (verdict === "apply") state.value = applyEvent(state.value, event);
      if (verdict === "resync" && seq.lastSeq !== null) s.emit("resync", { lastSeq: seq.lastSeq });
    });
    s.on("disconnected", ({ reason }) => {
      // After a replay the relay closes the socket itself; a live session's viewer stays connected.
      if (phase.value.kind === "replay") {
        c.release();
        return;
      }
      if (reason === "Session reconnected") {
        // The agent registered the session again: follow the new registration from its snapshot.
        reopen();
        return;
      }
      c.close();
      state.value = { ...state.value, active: false };
      phase.value = { kind: "ended", reason };
    });
    s.on("exec_result", (r) => notify(execNotice(r.command, r.ok, r.error)));
    s.on("error", (e) => {
      if (phase.value.kind !== "connecting") {
        notify({ text: e.message, tone: "error" });
        return;
      }
      // The relay closes the socket after refusing it.
      c.release();
      phase.value = e.message === "Session not found" ? { kind: "missing" } : { kind: "failed", message: e.message };
    });
    s.on("connect_error", (e) => {
      if (s.active) return; // a transport error: socket.io-client retries
      c.release();
      phase.value = { kind: "failed", message: e.message === "unauthorized" ? "You cannot view this session." : e.message };
    });
    return c;
  }

  async function command(run: (s: ViewerSocket) => Promise<viewer.CommandAck>): Promise<boolean> {
    try {
      const ack = await run(conn.socket);
      if (!ack.ok) notify({ text: ack.error ?? "The relay did not forward the command.", tone: "error" });
      return ack.ok;
    } catch {
      notify({ text: "The relay did not answer.", tone: "error" });
      return false;
    }
  }

  return {
    state,
    phase,
    send: (text, attachments) =>
      command((s) =>
        s.timeout(ackTimeoutMs).emitWithAck("input", attachments.length > 0 ? { text, attachments, client: "web" } : { text, client: "web" }),
      ),
    abort: () => command((s) => s.timeout(ackTimeoutMs).emitWithAck("exec", { id: `web-${Date.now().toString(36)}-${++execCounter}`, command: "abort" })),
    setModel: (m) => command((s) => s.timeout(ackTimeoutMs).emitWithAck("model_set", { provider: m.provider, modelId: m.id })),
    reopen,
    close: () => conn.close(),
  };
}

function execNotice(command: string, ok: boolean, error: string | undefined): Notice {
  if (command === "abort") return ok ? { text: "Agent stopped.", tone: "info" } : { text: `Could not stop the agent: ${error ?? "refused"}`, tone: "error" };
  return ok ? { text: `${command}: done.`, tone: "info" } : { text: `${command} failed: ${error ?? "refused"}`, tone: "error" };
}
