// The composer's slash commands: the agent's `exec` commands of the contract (§3.1.4 of the
// protocol reference), each with its parameters, and the agent's own commands (prompt templates
// and skills from `capabilities`), which are sent as a message. Parsing and completion are pure
// (test/commands.test.ts).

/** A command the agent runs on `exec`, with its parameters. */
export type ExecRequest =
  | { readonly command: "abort" }
  | { readonly command: "new_session" }
  | { readonly command: "list_resume_sessions" }
  | { readonly command: "resume_session"; readonly sessionPath?: string; readonly query?: string }
  | { readonly command: "compact"; readonly customInstructions?: string }
  | { readonly command: "set_session_name"; readonly name: string }
  | { readonly command: "set_thinking_level"; readonly level: string }
  | { readonly command: "cycle_thinking_level" }
  | { readonly command: "set_model"; readonly provider: string; readonly modelId: string }
  | { readonly command: "cycle_model" }
  | { readonly command: "get_available_models" }
  | { readonly command: "get_commands" }
  | { readonly command: "get_last_assistant_text" }
  | { readonly command: "mcp"; readonly action?: "status" | "reload" }
  | { readonly command: "end_session" }
  | { readonly command: "restart" }
  | { readonly command: "export_html"; readonly outputPath?: string }
  | { readonly command: "set_steering_mode"; readonly mode: string }
  | { readonly command: "set_follow_up_mode"; readonly mode: string };

export type ExecName = ExecRequest["command"];

export const thinkingLevels = ["off", "minimal", "low", "medium", "high", "xhigh"] as const;

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

const none =
  (command: Extract<ExecRequest, { command: "abort" | "new_session" | "list_resume_sessions" | "cycle_model" | "get_last_assistant_text" | "end_session" | "restart" | "get_available_models" | "get_commands" }>["command"]) =>
  (): ExecRequest => ({ command });

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
      return (thinkingLevels as readonly string[]).includes(a) ? { command: "set_thinking_level", level: a } : new Error(`Unknown thinking level “${a}”: use one of ${thinkingLevels.join(", ")}.`);
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
    parse: (a) => (a ? { command: "set_steering_mode", mode: a } : new Error("Give the mode: /steering-mode <mode>")),
  },
  {
    name: "follow-up-mode",
    args: "<mode>",
    description: "How follow-up messages are delivered (all, one-at-a-time)",
    parse: (a) => (a ? { command: "set_follow_up_mode", mode: a } : new Error("Give the mode: /follow-up-mode <mode>")),
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
