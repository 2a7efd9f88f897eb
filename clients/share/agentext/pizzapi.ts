// PizzaPi's agent tools for pi, loaded by `pizzapi share` with `pi -e`: AskUserQuestion (answered
// by a viewer through pi's extension UI protocol), send_message / wait_for_message /
// check_messages (messages between sessions, through the relay), spawn_session (a new session on
// a runner), get_session_id, update_todo (the viewers' todo panel) and set_session_name. The tools
// that need the relay ask share over the Unix socket named by PIZZAPI_SHARE_SOCKET, one JSON object
// per line (schema/piext.json); share asks the extension for pi's saved sessions and the state of
// its MCP servers (mcp.ts) the same way.

import * as net from "node:net";
import { SessionManager, type ExtensionAPI, type ExtensionContext } from "@mariozechner/pi-coding-agent";
import { McpBridge } from "./mcp.js";
import type {
  GetSessionID,
  IncomingMessage,
  ListSessions,
  Mcp,
  McpStatus,
  ModelSelect,
  Reply,
  SendMessage,
  SessionList,
  SpawnSession,
  TodoItem,
  TodoUpdate,
} from "../../../ts/protocol/src/piext.js";

type Request = SendMessage | SpawnSession | GetSessionID;
type Notification = TodoUpdate | ModelSelect | SessionList | McpStatus;
type ToolResult = { content: { type: "text"; text: string }[]; details: unknown };

const maxLine = 4 << 20;
const maxInbox = 1000;

function text(s: string, details?: unknown): ToolResult {
  return { content: [{ type: "text", text: s }], details };
}

/** The connection to share: requests with replies, notifications, and an inbox of messages. */
class Channel {
  private sock: net.Socket | null = null;
  private buf = "";
  private nextId = 0;
  private readonly waiting = new Map<string, (r: Reply) => void>();
  private readonly inbox: IncomingMessage[] = [];
  private readonly inboxWaiters = new Set<() => void>();
  /** Answers share's list_sessions requests. */
  listSessions: (() => Promise<Omit<SessionList, "type" | "id">>) | null = null;
  /** Answers share's mcp requests. */
  mcp: ((action: Mcp["action"]) => Promise<unknown>) | null = null;

  constructor(path: string | undefined) {
    if (!path) return;
    const sock = net.createConnection(path);
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => this.read(chunk));
    sock.on("error", () => this.close());
    sock.on("close", () => this.close());
    this.sock = sock;
  }

  get connected(): boolean {
    return this.sock !== null;
  }

  private read(chunk: string) {
    this.buf += chunk;
    if (this.buf.length > maxLine && !this.buf.includes("\n")) {
      this.close();
      return;
    }
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let msg: Reply | IncomingMessage | ListSessions | Mcp;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.type === "reply") {
        const done = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        done?.(msg);
      } else if (msg.type === "session_message") {
        if (this.inbox.length >= maxInbox) this.inbox.shift();
        this.inbox.push(msg);
        for (const wake of [...this.inboxWaiters]) wake();
      } else if (msg.type === "list_sessions") {
        void this.answerListSessions(msg.id);
      } else if (msg.type === "mcp") {
        void this.answerMcp(msg.id, msg.action);
      }
    }
  }

  private async answerListSessions(id: string) {
    try {
      if (!this.listSessions) throw new Error("the agent has not started a session yet");
      this.write({ type: "session_list", id, ...(await this.listSessions()) });
    } catch (e) {
      this.write({ type: "session_list", id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }

  private async answerMcp(id: string, action: Mcp["action"]) {
    try {
      if (!this.mcp) throw new Error("the MCP bridge is not loaded");
      this.write({ type: "mcp_status", id, ok: true, status: await this.mcp(action) });
    } catch (e) {
      this.write({ type: "mcp_status", id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }

  close() {
    this.sock?.destroy();
    this.sock = null;
    for (const [id, done] of this.waiting) done({ type: "reply", id, ok: false, error: "pizzapi share closed the connection" });
    this.waiting.clear();
    for (const wake of [...this.inboxWaiters]) wake();
  }

  private write(msg: Request | Notification): boolean {
    if (!this.sock) return false;
    this.sock.write(JSON.stringify(msg) + "\n");
    return true;
  }

  request(msg: Omit<SendMessage, "id"> | Omit<SpawnSession, "id"> | Omit<GetSessionID, "id">): Promise<Reply> {
    const id = `x${++this.nextId}`;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      if (!this.write({ ...msg, id } as Request)) {
        this.waiting.delete(id);
        resolve({ type: "reply", id, ok: false, error: "Not connected to pizzapi share: the session is not shared." });
      }
    });
  }

  notify(msg: Notification) {
    this.write(msg);
  }

  /** Takes the first message (from one session, when given) out of the inbox. */
  take(from: string | null): IncomingMessage | undefined {
    const i = this.inbox.findIndex((m) => from === null || m.fromSessionId === from);
    return i < 0 ? undefined : this.inbox.splice(i, 1)[0];
  }

  /** The messages waiting, left in the inbox. */
  peek(): IncomingMessage[] {
    return [...this.inbox];
  }

  /** Waits for a message (from one session, when given) until signal aborts. */
  async wait(from: string | null, signal: AbortSignal): Promise<IncomingMessage | undefined> {
    for (;;) {
      const m = this.take(from);
      if (m || signal.aborted || !this.sock) return m;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.inboxWaiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.inboxWaiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
}

const todoStatuses = new Set(["pending", "in_progress", "done", "cancelled"]);

/** The list the model sent, made valid: numbered, trimmed, known statuses, no empty entries. */
function normalizeTodos(raw: unknown): TodoItem[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((item): item is Record<string, unknown> => item !== null && typeof item === "object")
    .map((item, i) => ({
      id: typeof item.id === "number" && Number.isInteger(item.id) ? item.id : i + 1,
      text: String(item.text ?? "").trim().slice(0, 10000),
      status: (todoStatuses.has(item.status as string) ? item.status : "pending") as TodoItem["status"],
    }))
    .filter((item) => item.text.length > 0)
    .slice(0, 1000);
}

export default async function pizzapi(pi: ExtensionAPI) {
  const channel = new Channel(process.env.PIZZAPI_SHARE_SOCKET);
  // MCP servers' tools, loaded before pi starts the session (pi awaits this function).
  const mcp = new McpBridge((tool) => pi.registerTool(tool as never));
  await mcp.load(process.cwd());
  channel.mcp = async (action) => (action === "reload" ? await mcp.load(process.cwd()) : mcp.state);
  pi.on("session_shutdown", () => {
    channel.close();
    mcp.close();
  });
  // A new, resumed or forked session starts without a todo list.
  pi.on("session_start", (event, ctx: ExtensionContext) => {
    if (event.reason !== "startup" && event.reason !== "reload") channel.notify({ type: "todo_update", todos: [] });
    channel.listSessions = async () => {
      const sessions = await SessionManager.list(ctx.sessionManager.getCwd(), ctx.sessionManager.getSessionDir());
      sessions.sort((a, b) => b.modified.getTime() - a.modified.getTime());
      return {
        ok: true,
        currentPath: ctx.sessionManager.getSessionFile() ?? null,
        sessions: sessions.map((x) => ({ id: x.id, path: x.path, name: x.name ?? null, modified: x.modified.toISOString(), firstMessage: x.firstMessage ?? "" })),
      };
    };
  });
  // pi tells extensions, not its RPC output, when the model changes inside it.
  pi.on("model_select", (event) => {
    const m = event.model;
    channel.notify({ type: "model_select", model: { provider: m.provider, id: m.id, name: m.name, reasoning: m.reasoning, contextWindow: m.contextWindow } });
  });

  pi.registerTool({
    name: "AskUserQuestion",
    label: "Ask User Question",
    description: "Ask the user a clarification question and wait for the answer. Use this when you must collect user input before continuing.",
    parameters: {
      type: "object",
      properties: {
        question: { type: "string", description: "The question to ask the user." },
        placeholder: { type: "string", description: "Optional placeholder hint for the answer input." },
        options: { type: "array", items: { type: "string" }, description: "Optional list of predefined choices for the user to select from." },
      },
      required: ["question"],
      additionalProperties: false,
    } as never,
    async execute(_toolCallId: string, params: { question?: string; placeholder?: string; options?: string[] }, signal: AbortSignal | undefined, _onUpdate: unknown, ctx: { ui: { input(title: string, placeholder?: string, opts?: { signal?: AbortSignal }): Promise<string | undefined> } }) {
      const question = params.question?.trim();
      const options = Array.isArray(params.options) ? params.options.map(String) : undefined;
      if (!question) return text("AskUserQuestion requires a non-empty question.", { question: "", options, answer: null, cancelled: true });
      // share recognizes the input dialog by its title and answers it with the viewer's reply.
      const answer = (await ctx.ui.input(question, params.placeholder, { signal }))?.trim();
      if (!answer) return text("User did not provide an answer.", { question, options, answer: null, cancelled: true });
      return text(`User answered: ${answer}`, { question, options, answer, cancelled: false });
    },
  } as never);

  pi.registerTool({
    name: "send_message",
    label: "Send Message",
    description: "Send a message to another agent session. The message is delivered to the target session, where it can be received with wait_for_message.",
    parameters: {
      type: "object",
      properties: {
        sessionId: { type: "string", description: "The session ID to send the message to." },
        message: { type: "string", description: "The message text to send." },
      },
      required: ["sessionId", "message"],
    } as never,
    async execute(_id: string, params: { sessionId?: string; message?: string }) {
      const target = params.sessionId?.trim();
      if (!target) return text("Error: sessionId is required.");
      if (!params.message?.trim()) return text("Error: message is required.");
      const r = await channel.request({ type: "send_message", targetSessionId: target, message: params.message });
      return r.ok ? text(`Message sent to session ${target}.`) : text(`Error: ${r.error}`);
    },
  } as never);

  pi.registerTool({
    name: "wait_for_message",
    label: "Wait for Message",
    description: "Wait for a message from another agent session. Blocks until a message arrives or the timeout expires. If fromSessionId is omitted, waits for a message from any session.",
    parameters: {
      type: "object",
      properties: {
        fromSessionId: { type: "string", description: "Optional: only wait for messages from this session." },
        timeout: { type: "number", description: "Maximum time to wait in seconds (default 120)." },
      },
      required: [],
    } as never,
    async execute(_id: string, params: { fromSessionId?: string; timeout?: number }, signal: AbortSignal | undefined) {
      if (!channel.connected) return text("Error: Not connected to pizzapi share: the session is not shared.");
      const from = params.fromSessionId?.trim() || null;
      const seconds = typeof params.timeout === "number" && params.timeout > 0 ? params.timeout : 120;
      const timeout = AbortSignal.timeout(seconds * 1000);
      const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const m = await channel.wait(from, stop);
      if (!m) {
        return text(timeout.aborted ? `No message received within ${seconds} seconds.` : "Wait was cancelled.", { received: false, timedOut: timeout.aborted });
      }
      return text(`Message from session ${m.fromSessionId}:\n\n${m.message}`, { received: true, fromSessionId: m.fromSessionId, message: m.message, ts: m.ts });
    },
  } as never);

  pi.registerTool({
    name: "check_messages",
    label: "Check Messages",
    description: "Check for messages from other agent sessions without waiting. Returns the pending messages and leaves them for wait_for_message.",
    parameters: { type: "object", properties: {}, required: [] } as never,
    async execute() {
      const pending = channel.peek();
      if (pending.length === 0) return text("No pending messages.", { count: 0 });
      const list = pending.map((m) => `From session ${m.fromSessionId} (${m.ts}):\n${m.message}`).join("\n\n");
      return text(`${pending.length} pending message(s):\n\n${list}`, { count: pending.length });
    },
  } as never);

  pi.registerTool({
    name: "spawn_session",
    label: "Spawn Session",
    description: "Spawn a new independent agent session on the runner, optionally with a model and working directory. The new session runs in parallel and can be watched in the PizzaPi web UI. Returns its session ID and share URL.",
    parameters: {
      type: "object",
      properties: {
        prompt: { type: "string", description: "The new session's instructions; it has no context from this one." },
        model: {
          type: "object",
          description: "Optional model for the new session (default: the runner's).",
          properties: { provider: { type: "string", description: "Model provider." }, id: { type: "string", description: "Model ID." } },
          required: ["provider", "id"],
        },
        cwd: { type: "string", description: "Working directory (default: this session's)." },
        runnerId: { type: "string", description: "Runner to spawn on (default: this session's runner)." },
      },
      required: ["prompt"],
    } as never,
    async execute(_id: string, params: { prompt?: string; model?: { provider: string; id: string }; cwd?: string; runnerId?: string }) {
      const prompt = params.prompt?.trim();
      if (!prompt) return text("Error: prompt is required and cannot be empty.", { error: "Missing prompt" });
      const req: Omit<SpawnSession, "id"> = { type: "spawn_session", prompt, cwd: params.cwd ?? process.cwd() };
      if (params.model?.provider && params.model.id) req.model = { provider: params.model.provider, id: params.model.id };
      if (params.runnerId) req.runnerId = params.runnerId;
      const r = await channel.request(req);
      if (!r.ok) return text(`Error: ${r.error}`, { error: r.error });
      return text(`Spawned session ${r.sessionId}${r.pending ? " (the runner has not confirmed the start yet)" : ""}.\nShare URL: ${r.shareUrl}`, {
        sessionId: r.sessionId,
        shareUrl: r.shareUrl,
        runnerId: r.runnerId,
        pending: r.pending,
      });
    },
  } as never);

  pi.registerTool({
    name: "get_session_id",
    label: "Get Session ID",
    description: "Get this session's ID (other sessions send messages to it) and its share URL.",
    parameters: { type: "object", properties: {}, required: [] } as never,
    async execute() {
      const r = await channel.request({ type: "get_session_id" });
      return r.ok ? text(`Session ID: ${r.sessionId}\nShare URL: ${r.shareUrl}`, { sessionId: r.sessionId, shareUrl: r.shareUrl }) : text(`Error: ${r.error}`);
    },
  } as never);

  pi.registerTool({
    name: "update_todo",
    label: "Update Todo List",
    description: "Update the todo list shown to the user. Call it when you have several tasks, and update the statuses (pending, in_progress, done, cancelled) as work progresses. Each call replaces the whole list.",
    promptGuidelines: ["Use update_todo to keep a todo list when a request needs several steps; update the statuses as you go."],
    parameters: {
      type: "object",
      properties: {
        todos: {
          type: "array",
          description: "The complete, up-to-date todo list.",
          items: {
            type: "object",
            properties: {
              id: { type: "number", description: "Stable numeric ID (reuse across updates)." },
              text: { type: "string", description: "Short description of the task." },
              status: { type: "string", enum: ["pending", "in_progress", "done", "cancelled"], description: "The task's status." },
            },
            required: ["id", "text", "status"],
          },
        },
      },
      required: ["todos"],
    } as never,
    async execute(_id: string, params: { todos?: unknown }) {
      const todos = normalizeTodos(params.todos);
      channel.notify({ type: "todo_update", todos });
      return text(`Todo list updated (${todos.length} item(s)).`, { todos });
    },
  } as never);

  pi.registerTool({
    name: "set_session_name",
    label: "Set Session Name",
    description: "Set the session's name: a 3-6 word summary of the user's request. Call it at the start of your first response; do not write the name as text.",
    promptGuidelines: ["Use set_session_name once, at the start of your first response, with a 3-6 word summary of the request."],
    parameters: {
      type: "object",
      properties: { name: { type: "string", description: "A 3-6 word summary of the user's request." } },
      required: ["name"],
    } as never,
    async execute(_id: string, params: { name?: string }) {
      const name = params.name?.trim();
      if (!name) return text("Error: name is required.");
      pi.setSessionName(name.slice(0, 200));
      return text(`Session name set to: ${name}`);
    },
  } as never);
}
