// Compile-time tests of the generated event maps: `tsc -p test/tsconfig.json` must succeed, and
// every line marked @ts-expect-error must really be an error (tsc fails on an unused directive).
import { io, type Socket } from "socket.io-client";
import type { AgentEvent, KnownAgentEvent, SessionInfo } from "../src/index.js";
import { commands, hub, relay, runner, terminal, viewer } from "../src/index.js";

const cli: Socket<relay.ServerToClientEvents, relay.ClientToServerEvents> = io("http://127.0.0.1:3000" + relay.namespace, {
  auth: { apiKey: "key" } satisfies relay.HandshakeAuth,
  transports: ["websocket"],
});

// Well-typed emits compile.
cli.emit("event", { sessionId: "s1", token: "t", event: { type: "agent_start" } });
cli.emit("register", { cwd: "/home/ada" }, (reply) => {
  const token: string = reply.token;
  const acked: number | undefined = reply.ackedSeq;
  // @ts-expect-error the ack is typed (Registered.token is a string), not any
  const wrong: number = reply.token;
  void wrong;
  void token;
  void acked;
});
cli.emit("event", { sessionId: "s1", token: "t", seq: 1, event: { type: "message_update", delta: "x" } });
async function acked(): Promise<void> {
  // (socket.io-client's timeout().emitWithAck loses the reply type; plain emitWithAck keeps it.)
  const reply = await cli.emitWithAck("session_message", { token: "t", targetSessionId: "s2", message: "hi" });
  const ok: boolean = reply.ok;
  // @ts-expect-error the ack is typed (DeliveryAck.ok is a boolean), not any
  const wrong: string = reply.ok;
  void ok;
  void wrong;
}
void acked;

// Well-typed listeners compile, with payload types inferred from the map.
cli.on("registered", (p) => {
  const url: string = p.shareUrl;
  void url;
});
cli.on("exec", (p) => {
  const id: string = p.id;
  const extra: unknown = p["level"];
  void id;
  void extra;
});

// A wrong event name does not compile.
// @ts-expect-error "regster" is not a /relay client-to-server event
cli.emit("regster", { cwd: "/" }, () => {});
// @ts-expect-error "registered" is sent by the server, not by clients
cli.emit("registered", { sessionId: "s", token: "t", shareUrl: "u", isEphemeral: true, collabMode: true });
// @ts-expect-error no such server-to-client event
cli.on("registred", () => {});

// A wrong field type does not compile.
// @ts-expect-error cwd must be a string
cli.emit("register", { cwd: 42 }, () => {});
// @ts-expect-error seq must be a number
cli.emit("event", { sessionId: "s1", token: "t", seq: "1", event: { type: "x" } });
// @ts-expect-error deliverAs is "steer" | "followUp"
const badInput: viewer.ClientToServerEvents["input"] extends (p: infer P) => void ? P : never = { text: "x", deliverAs: "later" };
void badInput;

// A missing required field does not compile.
// @ts-expect-error cwd is required
cli.emit("register", { sessionId: "s1" }, () => {});
// @ts-expect-error the inner agent event needs its type
cli.emit("event", { sessionId: "s1", token: "t", event: {} });

// Nullable and optional stay apart.
const info: SessionInfo = {
  sessionId: "s", shareUrl: "u", cwd: "/", startedAt: "2026-11-27T00:00:00Z", sessionName: null,
  isEphemeral: true, isActive: false, lastHeartbeatAt: null, model: null, runnerId: null, runnerName: null,
};
// @ts-expect-error sessionName is nullable but required
const noName: SessionInfo = { ...info, sessionName: undefined };
void noName;

// Agent events narrow on their type.
function describe(ev: AgentEvent | KnownAgentEvent): string {
  if (ev.type === "heartbeat") {
    return String(ev["active"]);
  }
  return ev.type;
}
void describe;

// The other namespaces plug into socket.io-client the same way.
const v: Socket<viewer.ServerToClientEvents, viewer.ClientToServerEvents> = io("/viewer", { auth: { sessionId: "s" } });
v.emit("resync", { lastSeq: 4 });
v.on("event", (p) => {
  const seq: number | undefined = p.seq;
  void seq;
});
// @ts-expect-error lastSeq is a number
v.emit("resync", { lastSeq: "4" });
const h: Socket<hub.ServerToClientEvents, hub.ClientToServerEvents> = io("/hub");
h.on("sessions", (p) => p.sessions.map((s) => s.sessionId));
// @ts-expect-error the hub takes no client events
h.emit("sessions", { sessions: [] });
const t: Socket<terminal.ServerToClientEvents, terminal.ClientToServerEvents> = io("/terminal");
t.emit("terminal_resize", { cols: 80, rows: 24 });
// @ts-expect-error cols and rows are required
t.emit("terminal_resize", { cols: 80 });
const r: Socket<runner.ServerToClientEvents, runner.ClientToServerEvents> = io("/runner");
r.on("read_file", (p) => {
  const enc: "utf8" | "base64" | undefined = p.encoding;
  void enc;
});

// The exec commands: a request carries its command's parameters, and the result type follows the
// command.
const setModel: commands.ExecRequest = { command: "set_model", provider: "anthropic", modelId: "claude-opus-4-1" };
// @ts-expect-error set_model needs modelId
const missing: commands.ExecRequest = { command: "set_model", provider: "anthropic" };
// @ts-expect-error a level outside the contract
const badLevel: commands.ExecRequest = { command: "set_thinking_level", level: "max" };
// @ts-expect-error not a command of the contract
const unknownCommand: commands.ExecRequest = { command: "fly" };
const models: commands.ExecResultOf<"get_available_models"> = { models: [{ provider: "openai", id: "gpt-5" }] };
const cycled: commands.ExecResultOf<"cycle_model"> = null;
// @ts-expect-error abort returns nothing
const aborted: commands.ExecResultOf<"abort"> = { ok: true };
const everyName: readonly commands.ExecName[] = commands.execNames;
void [setModel, missing, badLevel, unknownCommand, models, cycled, aborted, everyName];
