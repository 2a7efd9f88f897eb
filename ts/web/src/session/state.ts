// The view of one session: a pure reducer from agent events (snapshots and live events) to what the
// session page shows. Unit-tested in test/state.test.ts.

import type {
  AgentEvent,
  AgentMessage,
  HeartbeatEvent,
  KnownAgentEvent,
  MessageEndEvent,
  MessageUpdateEvent,
  ModelInfo,
  SessionActiveEvent,
  ToolExecutionStartEvent,
} from "@pizzapi/protocol";
import { isObj, list, member, num, str } from "../read";
import { applyDialogEvent, type Dialog } from "./dialogs";
import {
  applyDelta,
  blocksOf,
  resultImages,
  resultText,
  roleOf,
  stampDurations,
  stoppedOf,
  toolResult,
  type ChatMessage,
  type ToolRun,
  type Tools,
} from "./transcript";

export interface Todo {
  readonly text: string;
  readonly status: string;
}

export interface Notice {
  readonly text: string;
  readonly tone: "info" | "error";
}

/** The session's token use and cost so far (the heartbeat's `tokenUsage`). */
export interface Usage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  /** US dollars. */
  readonly cost: number;
}

/** A question the agent waits on (an `AskUserQuestion` call, or the heartbeat's `pendingQuestion`). */
export interface Question {
  readonly toolCallId: string;
  readonly question: string;
  readonly options: readonly string[];
}

/** A command the agent announced in `capabilities` (prompt templates, skills). */
export interface AgentCommandInfo {
  readonly name: string;
  readonly description: string;
}

export interface SessionState {
  readonly messages: readonly ChatMessage[];
  readonly tools: Tools;
  readonly todos: readonly Todo[];
  /** Whether the agent is working on a turn. */
  readonly active: boolean;
  readonly model: ModelInfo | null;
  /** Models the agent can switch to. */
  readonly models: readonly ModelInfo[];
  /** Context window sizes by "provider/id", from the models lists. */
  readonly windows: Readonly<Record<string, number>>;
  readonly sessionName: string | null;
  /** The agent's working directory. */
  readonly cwd: string | null;
  readonly thinkingLevel: string | null;
  /** The latest outcome worth telling the user (a command result, an agent error). */
  readonly notice: Notice | null;
  readonly usage: Usage | null;
  /** Tokens in the context at the last assistant message (its input, cache and output tokens). */
  readonly contextTokens: number | null;
  /** The heartbeat's pending question, when the agent reports one. */
  readonly pendingQuestion: Question | null;
  /** Dialogs of the agent's extensions waiting for an answer. */
  readonly dialogs: readonly Dialog[];
  readonly commands: readonly AgentCommandInfo[];
  readonly nextKey: number;
}

export const initialState: SessionState = {
  messages: [],
  tools: {},
  todos: [],
  active: false,
  model: null,
  models: [],
  windows: {},
  sessionName: null,
  cwd: null,
  thinkingLevel: null,
  notice: null,
  usage: null,
  contextTokens: null,
  pendingQuestion: null,
  dialogs: [],
  commands: [],
  nextKey: 1,
};

// The agent events with a schema of their own: the relay has validated them, so their type is
// trustworthy. A Record keyed by the union makes the compiler list a type the contract adds.
const knownTypes: Readonly<Record<KnownAgentEvent["type"], true>> = {
  heartbeat: true,
  session_active: true,
  message_update: true,
  message_end: true,
  turn_end: true,
  agent_end: true,
  tool_execution_start: true,
  cli_error: true,
  agent_start: true,
  tool_execution_end: true,
  todo_update: true,
  model_select: true,
  capabilities: true,
  model_set_result: true,
};

function isKnown(e: AgentEvent): e is KnownAgentEvent {
  return Object.hasOwn(knownTypes, e.type);
}

/** Applies one agent event. */
export function applyEvent(s: SessionState, e: AgentEvent): SessionState {
  if (isKnown(e)) return applyKnown(s, e);
  switch (e.type) {
    case "message_start":
      return messageStart(s, message(e["message"]));
    case "tool_execution_update":
      return updateTool(s, str(e["toolCallId"]), { output: resultText(e["partialResult"]), images: resultImages(e["partialResult"]) });
    case "extension_ui_request":
    case "extension_ui_response":
      return { ...s, dialogs: applyDialogEvent(s.dialogs, e) };
    default:
      return s;
  }
}

function applyKnown(s: SessionState, e: KnownAgentEvent): SessionState {
  switch (e.type) {
    case "heartbeat":
      return heartbeat(s, e);
    case "session_active":
      return snapshot(s, e);
    case "message_update":
      return messageUpdate(s, e);
    case "message_end":
    case "turn_end":
      return messageEnd(s, e);
    case "agent_end":
      return { ...s, active: false, messages: s.messages.map((m) => (m.streaming ? { ...m, streaming: false } : m)) };
    case "tool_execution_start":
      return toolStart(s, e);
    case "cli_error":
      return { ...s, notice: { text: e.message, tone: "error" } };
    case "agent_start":
      return { ...s, active: true };
    case "tool_execution_end":
      return updateTool(s, e.toolCallId, {
        output: resultText(e.result),
        images: resultImages(e.result),
        state: e.isError === true ? "failed" : "done",
      });
    case "todo_update":
      return { ...s, todos: todosOf(e.todos) };
    case "capabilities": {
      const models = modelsOf(e.models);
      const commands = commandsOf(e.commands);
      return { ...s, models: models.length > 0 ? models : s.models, windows: windowsOf(s.windows, e.models), commands: commands ?? s.commands };
    }
    case "model_select":
      return { ...s, model: modelOf(e.model) ?? s.model };
    case "model_set_result": {
      const target = `${e.provider}/${e.modelId}`;
      return e.ok
        ? { ...s, notice: { text: `Model switched to ${target}`, tone: "info" } }
        : { ...s, notice: { text: `Could not switch to ${target}: ${e.message ?? "refused"}`, tone: "error" } };
    }
  }
}

function message(v: unknown): AgentMessage | undefined {
  return isObj(v) ? v : undefined;
}

function heartbeat(s: SessionState, e: HeartbeatEvent): SessionState {
  const todos = e["todoList"];
  const question = e["pendingQuestion"];
  return {
    ...s,
    usage: usageOf(e["tokenUsage"]) ?? s.usage,
    pendingQuestion: question === undefined ? s.pendingQuestion : questionOf(member(question, "toolCallId"), question),
    active: e.active,
    model: e.model === undefined ? s.model : modelOf(e.model),
    windows: windowsOf(s.windows, [e.model]),
    sessionName: e.sessionName === undefined ? s.sessionName : e.sessionName,
    cwd: str(e["cwd"]) ?? s.cwd,
    thinkingLevel: str(e["thinkingLevel"]) ?? s.thinkingLevel,
    todos: Array.isArray(todos) ? todosOf(todos) : s.todos,
  };
}

/** A `session_active` snapshot replaces the transcript; a message still streaming is kept. */
function snapshot(s: SessionState, e: SessionActiveEvent): SessionState {
  const st = e.state;
  let key = s.nextKey;
  const messages: ChatMessage[] = [];
  const tools: Record<string, ToolRun> = { ...s.tools };
  for (const m of list(st.messages)) {
    const msg = message(m);
    if (!msg) continue;
    const role = roleOf(msg);
    if (role === "user" || role === "assistant") {
      messages.push({ key: key++, role, blocks: blocksOf(msg.content), streaming: false, stopped: stoppedOf(msg) });
    } else if (role === "toolResult") {
      const r = toolResult(msg, callOf(messages, str(msg["toolCallId"])));
      if (r) tools[r[0]] = r[1];
    }
  }
  const streaming = s.messages.find((m) => m.streaming);
  if (streaming) messages.push(streaming);
  const models = modelsOf(st["availableModels"]);
  return {
    ...s,
    messages,
    tools,
    contextTokens: contextOf(list(st.messages)) ?? s.contextTokens,
    nextKey: key,
    model: modelOf(st["model"]) ?? s.model,
    models: models.length > 0 ? models : s.models,
    windows: windowsOf(s.windows, [...list(st["availableModels"]), st["model"]]),
    sessionName: st.sessionName === undefined ? s.sessionName : st.sessionName,
    cwd: str(st["cwd"]) ?? s.cwd,
    thinkingLevel: str(st["thinkingLevel"]) ?? s.thinkingLevel,
    todos: Array.isArray(st["todoList"]) ? todosOf(st["todoList"]) : s.todos,
  };
}

/** The name and arguments of the tool call with this id among the messages. */
function callOf(messages: readonly ChatMessage[], id: string | undefined): ToolRun | undefined {
  for (const m of messages) {
    for (const b of m.blocks) {
      if (b.kind === "tool" && b.id === id) return { name: b.name, args: b.args, state: "running", output: "", images: [] };
    }
  }
  return undefined;
}

function messageStart(s: SessionState, m: AgentMessage | undefined): SessionState {
  if (roleOf(m) !== "assistant") return s;
  return push(s, { role: "assistant", blocks: blocksOf(m?.content), streaming: true, stopped: null });
}

function push(s: SessionState, m: Omit<ChatMessage, "key">): SessionState {
  return { ...s, messages: [...s.messages, { ...m, key: s.nextKey }], nextKey: s.nextKey + 1 };
}

/** Replaces the streaming message (the last message, when it streams) with f of it. */
function withStreaming(s: SessionState, f: (m: ChatMessage) => ChatMessage): SessionState | null {
  const last = s.messages.at(-1);
  if (!last?.streaming) return null;
  return { ...s, messages: [...s.messages.slice(0, -1), f(last)] };
}

function messageUpdate(s: SessionState, e: MessageUpdateEvent): SessionState {
  const d = e.assistantMessageEvent;
  if (!d) return s;
  const started = s.messages.at(-1)?.streaming ? s : push(s, { role: "assistant", blocks: [], streaming: true, stopped: null });
  return withStreaming(started, (m) => ({ ...m, blocks: applyDelta(m.blocks, d) })) ?? s;
}

/**
 * A completed message: the streaming assistant message takes its final content, a user message is
 * added, a tool result completes its call. `turn_end` repeats the turn's last message; it only
 * contributes thinking durations the relay stamped on it.
 */
function messageEnd(s: SessionState, e: MessageEndEvent): SessionState {
  const m = e.message;
  const role = roleOf(m);
  if (e.type === "turn_end") {
    if (role !== "assistant") return s;
    const i = s.messages.findLastIndex((x) => x.role === "assistant");
    const last = s.messages[i];
    if (!last) return s;
    const blocks = stampDurations(last.blocks, m?.content);
    return blocks === last.blocks ? s : { ...s, messages: s.messages.with(i, { ...last, blocks }) };
  }
  switch (role) {
    case "assistant": {
      const final = { blocks: blocksOf(m?.content), streaming: false, stopped: stoppedOf(m) };
      const next = { ...s, contextTokens: contextOf([m]) ?? s.contextTokens };
      return withStreaming(next, (x) => ({ ...x, ...final })) ?? push(next, { role: "assistant", ...final });
    }
    case "user":
      return push(s, { role: "user", blocks: blocksOf(m?.content), streaming: false, stopped: null });
    case "toolResult": {
      const r = m && toolResult(m, s.tools[str(m["toolCallId"]) ?? ""] ?? callOf(s.messages, str(m["toolCallId"])));
      return r ? { ...s, tools: { ...s.tools, [r[0]]: r[1] } } : s;
    }
    default:
      return s;
  }
}

/** A tool starts; when no message shows its call, one is added so that the run is visible. */
function toolStart(s: SessionState, e: ToolExecutionStartEvent): SessionState {
  const id = e.toolCallId ?? "";
  const tools = { ...s.tools, [id]: { name: e.toolName, args: e.args, state: "running" as const, output: "", images: [] } };
  const shown = callOf(s.messages, id) !== undefined;
  const next = { ...s, tools };
  return shown
    ? next
    : push(next, { role: "assistant", blocks: [{ kind: "tool", id, name: e.toolName, args: e.args }], streaming: false, stopped: null });
}

function updateTool(s: SessionState, id: string | undefined, change: Partial<ToolRun>): SessionState {
  const run = id === undefined ? undefined : s.tools[id];
  if (id === undefined || !run) return s;
  return { ...s, tools: { ...s.tools, [id]: { ...run, ...change } } };
}

function modelOf(v: unknown): ModelInfo | null {
  const provider = str(member(v, "provider"));
  const id = str(member(v, "id"));
  if (!provider || !id) return null;
  const name = str(member(v, "name"));
  return name ? { provider, id, name } : { provider, id };
}

function modelsOf(v: unknown): ModelInfo[] {
  return list(v).flatMap((m) => modelOf(m) ?? []);
}

function windowsOf(known: Readonly<Record<string, number>>, models: unknown): Readonly<Record<string, number>> {
  let out = known;
  for (const m of list(models)) {
    const w = num(member(m, "contextWindow"));
    const provider = str(member(m, "provider"));
    const id = str(member(m, "id"));
    if (!w || !provider || !id || out[`${provider}/${id}`] === w) continue;
    out = { ...out, [`${provider}/${id}`]: w };
  }
  return out;
}

function usageOf(v: unknown): Usage | null {
  if (!isObj(v)) return null;
  const n = (k: string) => num(v[k]) ?? 0;
  const cost = v["cost"];
  return { input: n("input"), output: n("output"), cacheRead: n("cacheRead"), cacheWrite: n("cacheWrite"), cost: num(cost) ?? num(member(cost, "total")) ?? 0 };
}

/** The context size at the newest assistant message that reports usage. */
function contextOf(messages: readonly unknown[]): number | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (str(member(m, "role")) !== "assistant") continue;
    const u = member(m, "usage");
    const total = ["input", "output", "cacheRead", "cacheWrite"].reduce((sum, k) => sum + (num(member(u, k)) ?? 0), 0);
    if (total > 0) return total;
  }
  return null;
}

/** A question from `{question, options}` (options as strings or `{label}` objects). */
export function questionOf(id: unknown, v: unknown): Question | null {
  const question = str(member(v, "question"));
  if (!question) return null;
  const options = list(member(v, "options")).flatMap((o) => {
    const label = str(o) ?? str(member(o, "label")) ?? str(member(o, "value"));
    return label ? [label] : [];
  });
  return { toolCallId: str(id) ?? "", question, options };
}

function commandsOf(v: unknown): AgentCommandInfo[] | null {
  if (!Array.isArray(v)) return null;
  return v.flatMap((c) => {
    const name = str(member(c, "name"))?.replace(/^\//, "");
    return name ? [{ name, description: str(member(c, "description")) ?? "" }] : [];
  });
}

/** The context window of the current model, from the models list. */
export function contextWindow(s: SessionState): number | null {
  const m = s.model;
  return m ? (s.windows[`${m.provider}/${m.id}`] ?? null) : null;
}

function todosOf(v: unknown): Todo[] {
  return list(v).flatMap((t) => {
    const text = str(member(t, "content")) ?? str(member(t, "text")) ?? str(member(t, "title"));
    return text ? [{ text, status: str(member(t, "status")) ?? "pending" }] : [];
  });
}
