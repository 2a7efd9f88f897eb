// One session followed on /viewer: the snapshot and live events folded into a SessionState, gap
// detection with exact resync, reconnection with `auth.lastSeq`, and the collab-mode commands.

import type { Attachment, commands, DeliverAs, ErrorCode, ExecResult, Input, ModelInfo, viewer } from "@pizzapi/protocol";
import { signal, type ReadonlySignal } from "@preact/signals";
import { connectErrorCode } from "../errors";
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

/** A message sent while the agent works, until the transcript shows it. */
export interface Queued {
  readonly id: number;
  readonly text: string;
  readonly deliverAs: DeliverAs;
}

/**
 * The outcome of an `exec` command: its result (of the command's type in the contract), or why it
 * failed: the code for the UI to decide on (absent when the agent sent none) and the text for people.
 */
export type ExecOutcome<R = unknown> =
  | { readonly ok: true; readonly result: R }
  | { readonly ok: false; readonly code?: ErrorCode; readonly error: string };

export interface SessionView {
  readonly state: ReadonlySignal<SessionState>;
  readonly phase: ReadonlySignal<Phase>;
  /** Messages sent as steer or follow-up that the agent has not shown yet. */
  readonly queued: ReadonlySignal<readonly Queued[]>;
  /**
   * When the agent's last live heartbeat arrived, by this device's clock (ms since the epoch); the
   * time of the connection until one did; null for a replay.
   */
  readonly heartbeatAt: ReadonlySignal<number | null>;
  /**
   * Sends viewer input; false (and a notice saying why) when the relay did not forward it. With
   * deliverAs, the message is queued while the agent works (steer: into the current run;
   * followUp: after it).
   */
  send(text: string, attachments: Attachment[], deliverAs?: DeliverAs): Promise<boolean>;
  /** Runs an `exec` command of the contract and waits for the agent's `exec_result`. */
  exec<K extends commands.ExecName>(request: commands.ExecRequestOf<K>): Promise<ExecOutcome<commands.ExecResultOf<K>>>;
  /** Shows a notice (a command's outcome) above the composer. */
  notify(notice: Notice): void;
  /** Asks the agent to stop its current turn. */
  abort(): Promise<boolean>;
  setModel(m: ModelInfo): Promise<boolean>;
  /** Connects again from scratch (for a session that was missing and has registered since). */
  reopen(): void;
  close(): void;
}

const ackTimeoutMs = 10_000;
/** How long an exec command may take (compaction runs a model call). */
const execTimeoutMs = 120_000;
let execCounter = 0;
let queueCounter = 0;

/** The text of a user message's blocks, to match it with a queued message. */
function userTexts(s: SessionState): Set<string> {
  const out = new Set<string>();
  for (const m of s.messages) {
    if (m.role !== "user") continue;
    out.add(
      m.blocks
        .map((b) => (b.kind === "text" ? b.text : ""))
        .join("")
        .trim(),
    );
  }
  return out;
}

export function openSession(sessionId: string): SessionView {
  const state = signal<SessionState>(initialState);
  const phase = signal<Phase>({ kind: "connecting" });
  const queued = signal<readonly Queued[]>([]);
  const heartbeatAt = signal<number | null>(null);
  const pending = new Map<string, (r: ExecResult) => void>();
  let seq = unsequenced;
  /** The seq the snapshot on connect was stamped with: heartbeats above it are live. */
  let snapshotSeq = Number.MAX_SAFE_INTEGER;
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
      snapshotSeq = p.lastSeq ?? Number.MAX_SAFE_INTEGER;
      phase.value = p.replayOnly ? { kind: "replay" } : { kind: "live" };
      state.value = {
        ...state.value,
        active: p.isActive ?? state.value.active,
        sessionName: p.sessionName === undefined ? state.value.sessionName : p.sessionName,
      };
      // Staleness is measured on this device's clock only (the relay's times may be skewed from
      // it): from now, until the first live heartbeat.
      heartbeatAt.value = p.replayOnly ? null : Date.now();
      if (!p.replayOnly) s.emit("connected", {});
    });
    s.on("event", ({ event, seq: n }) => {
      const [next, verdict] = admit(seq, n, event.type);
      seq = next;
      if (verdict !== "apply") {
        if (verdict === "resync" && seq.lastSeq !== null) s.emit("resync", { lastSeq: seq.lastSeq });
        return;
      }
      state.value = applyEvent(state.value, event);
      // A live heartbeat (not the stored one of the snapshot) says the agent is alive now.
      if (event.type === "heartbeat" && n !== undefined && n > snapshotSeq) heartbeatAt.value = Date.now();
      if (queued.value.length > 0 && (event.type === "message_end" || event.type === "session_active")) {
        const shown = userTexts(state.value);
        const left = queued.value.filter((q) => !shown.has(q.text.trim()));
        if (left.length !== queued.value.length) queued.value = left;
      }
    });
    s.on("disconnected", ({ reason, code }) => {
      // After a replay the relay closes the socket itself; a live session's viewer stays connected.
      if (phase.value.kind === "replay") {
        c.release();
        return;
      }
      if (code === "session_reconnected") {
        // The agent registered the session again: follow the new registration from its snapshot.
        reopen();
        return;
      }
      c.close();
      state.value = { ...state.value, active: false };
      phase.value = { kind: "ended", reason };
    });
    s.on("exec_result", (r) => {
      const waiter = pending.get(r.id);
      if (waiter) {
        pending.delete(r.id);
        waiter(r);
      } else if (r.id.startsWith("web-")) {
        // A command of ours that timed out here, or one sent by another tab of this user.
        notify(execNotice(r.command, r.ok, r.error));
      }
    });
    s.on("error", (e) => {
      if (phase.value.kind !== "connecting") {
        notify({ text: e.message, tone: "error" });
        return;
      }
      // The relay closes the socket after refusing it.
      c.release();
      phase.value = e.code === "session_not_found" ? { kind: "missing" } : { kind: "failed", message: e.message };
    });
    s.on("connect_error", (e) => {
      if (s.active) return; // a transport error: socket.io-client retries
      c.release();
      phase.value = { kind: "failed", message: connectErrorCode(e) === "unauthorized" ? "You cannot view this session." : e.message };
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

  async function exec<K extends commands.ExecName>(request: commands.ExecRequestOf<K>): Promise<ExecOutcome<commands.ExecResultOf<K>>> {
    const id = `web-${Date.now().toString(36)}-${++execCounter}`;
    const result = new Promise<ExecResult | null>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(null);
      }, execTimeoutMs);
      pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    let ack: viewer.CommandAck;
    try {
      ack = await conn.socket.timeout(ackTimeoutMs).emitWithAck("exec", { ...request, id });
    } catch {
      pending.delete(id);
      return { ok: false, code: "timeout", error: "The relay did not answer." };
    }
    if (!ack.ok) {
      pending.delete(id);
      return failed(ack.code, ack.error ?? "The relay did not forward the command.");
    }
    const r = await result;
    if (!r) return { ok: false, code: "timeout", error: "The agent did not answer in time." };
    // The result is the agent's: the contract gives its type, the UI reads it defensively.
    return r.ok ? { ok: true, result: r.result as commands.ExecResultOf<K> } : failed(r.code, r.error ?? "The agent refused the command.");
  }

  async function send(text: string, attachments: Attachment[], deliverAs?: DeliverAs): Promise<boolean> {
    const input: Input = { text, client: "web" };
    if (attachments.length > 0) input.attachments = attachments;
    if (deliverAs) input.deliverAs = deliverAs;
    const ok = await command((s) => s.timeout(ackTimeoutMs).emitWithAck("input", input));
    if (ok && deliverAs) queued.value = [...queued.value, { id: ++queueCounter, text, deliverAs }];
    return ok;
  }

  return {
    state,
    phase,
    queued,
    heartbeatAt,
    send,
    exec,
    notify,
    abort: async () => {
      const r = await exec({ command: "abort" });
      notify(execNotice("abort", r.ok, r.ok ? undefined : r.error));
      // The agent drops its queued messages when it stops.
      if (r.ok) queued.value = [];
      return r.ok;
    },
    setModel: (m) => command((s) => s.timeout(ackTimeoutMs).emitWithAck("model_set", { provider: m.provider, modelId: m.id })),
    reopen,
    close: () => conn.close(),
  };
}

/** A failed outcome, with its code when the relay or the agent sent one. */
function failed(code: ErrorCode | undefined, error: string): ExecOutcome<never> {
  return code === undefined ? { ok: false, error } : { ok: false, code, error };
}

function execNotice(command: string, ok: boolean, error: string | undefined): Notice {
  if (command === "abort") return ok ? { text: "Agent stopped.", tone: "info" } : { text: `Could not stop the agent: ${error ?? "refused"}`, tone: "error" };
  return ok ? { text: `${command}: done.`, tone: "info" } : { text: `${command} failed: ${error ?? "refused"}`, tone: "error" };
}
