// The composer's slash commands: the agent's `exec` commands of the contract (schema/commands.json,
// generated into @pizzapi/protocol), each with its parameters, and the agent's own commands
// (prompt templates and skills from `capabilities`), which are sent as a message. Parsing and
// completion are pure (test/commands.test.ts).

import type { commands } from "@pizzapi/protocol";

/** A command the agent runs on `exec`, with its parameters: the contract's union (schema/commands.json). */
export type ExecRequest = commands.ExecRequest;

/** The name of an `exec` command. */
export type ExecName = commands.ExecName;

/** The thinking levels, in the order the agent cycles through them. */
const levels: Record<commands.ThinkingLevel, number> = { off: 0, minimal: 1, low: 2, medium: 3, high: 4, xhigh: 5 };
export const thinkingLevels = (Object.keys(levels) as commands.ThinkingLevel[]).sort((a, b) => levels[a] - levels[b]);

const isThinkingLevel = (s: string): s is commands.ThinkingLevel => Object.hasOwn(levels, s);

/** How queued messages reach a busy agent. */
const queueModes: Record<commands.QueueMode, true> = { all: true, "one-at-a-time": true };

const isQueueMode = (s: string): s is commands.QueueMode => Object.hasOwn(queueModes, s);

/** A slash command of the composer. */
export interface SlashCommand {
  /** What the user types after the slash. */
  readonly name: string;
  /** The argument it takes, for the menu ("<name>", "[level]"); empty when none. */
  readonly args: string;
  readonly description: string;
  /** Asks before running (it ends or restarts the agent). */
  readonly confirm?: string;
  /** The request for the text after the name, or an Error saying what is missing. */
  readonly parse: (arg: string) => ExecRequest | Error;
}

/** The commands that take no parameters. */
type Bare = { [K in ExecName]: {} extends commands.ExecCommands[K]["params"] ? K : never }[ExecName];

const none =
  (command: Bare) =>
  (): ExecRequest => ({ command }) as ExecRequest;

/** The built-in commands, in menu order. */
export const builtins: readonly SlashCommand[] = [
  { name: "new", args: "", description: "Start a new session (the agent clears its conversation)", parse: none("new_session") },
  { name: "resume", args: "", description: "Resume one of the agent's previous sessions", parse: none("list_resume_sessions") },
  {
    name: "compact",
    args: "[instructions]",
    description: "Summarise the conversation to free context",
    parse: (a) => (a ? { command: "compact", customInstructions: a } : { command: "compact" }),
  },
  {
    name: "name",
    args: "<name>",
    description: "Rename the session",
    parse: (a) => (a ? { command: "set_session_name", name: a } : new Error("Give the new name: /name <name>")),
  },
  {
    name: "thinking",
    args: "[level]",
    description: `Set the thinking level (${thinkingLevels.join(", ")}) or cycle to the next`,
    parse: (a) => {
      if (!a) return { command: "cycle_thinking_level" };
      return isThinkingLevel(a) ? { command: "set_thinking_level", level: a } : new Error(`Unknown thinking level “${a}”: use one of ${thinkingLevels.join(", ")}.`);
    },
  },
  {
    name: "model",
    args: "[provider/model]",
    description: "Switch to a model, or cycle to the next one",
    parse: (a) => {
      if (!a) return { command: "cycle_model" };
      const slash = a.indexOf("/");
      if (slash <= 0 || slash === a.length - 1) return new Error("Write the model as provider/model-id.");
      return { command: "set_model", provider: a.slice(0, slash), modelId: a.slice(slash + 1) };
    },
  },
  { name: "models", args: "", description: "List the models the agent can use", parse: none("get_available_models") },
  { name: "copy", args: "", description: "Copy the agent's last answer", parse: none("get_last_assistant_text") },
  {
    name: "mcp",
    args: "[reload]",
    description: "Show the MCP servers' status, or reload them",
    parse: (a) => (a === "" || a === "status" ? { command: "mcp", action: "status" } : a === "reload" ? { command: "mcp", action: "reload" } : new Error("Use /mcp or /mcp reload.")),
  },
  { name: "stop", args: "", description: "Stop the agent's current run", parse: none("abort") },
  { name: "commands", args: "", description: "Ask the agent for its commands again", parse: none("get_commands") },
  {
    name: "export",
    args: "[path]",
    description: "Export the session as HTML",
    parse: (a) => (a ? { command: "export_html", outputPath: a } : { command: "export_html" }),
  },
  {
    name: "steering-mode",
    args: "<mode>",
    description: "How steering messages are delivered (all, one-at-a-time)",
    parse: (a) => (isQueueMode(a) ? { command: "set_steering_mode", mode: a } : new Error("Give the mode: /steering-mode all or /steering-mode one-at-a-time")),
  },
  {
    name: "follow-up-mode",
    args: "<mode>",
    description: "How follow-up messages are delivered (all, one-at-a-time)",
    parse: (a) => (isQueueMode(a) ? { command: "set_follow_up_mode", mode: a } : new Error("Give the mode: /follow-up-mode all or /follow-up-mode one-at-a-time")),
  },
  { name: "restart", args: "", description: "Restart the agent process", confirm: "Restart the agent? Its current run stops.", parse: none("restart") },
  { name: "end", args: "", description: "End the session (the agent exits)", confirm: "End this session? The agent exits.", parse: none("end_session") },
];

/** A command the agent announced (a prompt template or a skill): typing it sends it as a message. */
export interface AgentCommand {
  readonly name: string;
  readonly description: string;
}

/** One entry of the completion menu. */
export type MenuItem = { readonly kind: "builtin"; readonly command: SlashCommand } | { readonly kind: "agent"; readonly command: AgentCommand };

export const itemName = (i: MenuItem) => i.command.name;

/** The command word being typed ("/com" gives "com"), or null when the text is not a command. */
export function commandWord(text: string): string | null {
  const m = /^\/(\S*)$/.exec(text);
  return m ? (m[1] ?? "") : null;
}

/** The menu for what is typed: commands whose name starts with the word, then those containing it. */
export function complete(word: string, agent: readonly AgentCommand[]): MenuItem[] {
  const all: MenuItem[] = [
    ...builtins.map((command): MenuItem => ({ kind: "builtin", command })),
    ...agent.filter((c) => !builtins.some((b) => b.name === c.name)).map((command): MenuItem => ({ kind: "agent", command })),
  ];
  const w = word.toLowerCase();
  const starts = all.filter((i) => itemName(i).toLowerCase().startsWith(w));
  const contains = all.filter((i) => !itemName(i).toLowerCase().startsWith(w) && itemName(i).toLowerCase().includes(w));
  return [...starts, ...contains];
}

/** What the composer's text means when sent. */
export type Parsed =
  | { readonly kind: "message"; readonly text: string }
  | { readonly kind: "exec"; readonly command: SlashCommand; readonly request: ExecRequest }
  | { readonly kind: "error"; readonly message: string };

/**
 * Parses the composer's text: "/name args" of a built-in command is an exec request; "//text"
 * sends "/text" as a message; an agent command or any other text is a message.
 */
export function parse(text: string, agent: readonly AgentCommand[]): Parsed {
  const t = text.trim();
  if (t.startsWith("//")) return { kind: "message", text: t.slice(1) };
  const m = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(t);
  if (!m) return { kind: "message", text: t };
  const name = m[1] ?? "";
  const arg = (m[2] ?? "").trim();
  const command = builtins.find((b) => b.name === name);
  if (command) {
    const request = command.parse(arg);
    return request instanceof Error ? { kind: "error", message: request.message } : { kind: "exec", command, request };
  }
  if (agent.some((c) => c.name === name)) return { kind: "message", text: t };
  return { kind: "error", message: `Unknown command /${name}. Type / to see the commands, or start with // to send a message beginning with a slash.` };
}
