// What the composer tells the user about an exec command's result. Pure (test/commands.test.ts).

import { list, member, num, str } from "../read";
import type { ExecName } from "./commands";

export interface Described {
  /** One line for the notice. */
  readonly text: string;
  /** More to show in a dialog (a list, a status object), when there is any. */
  readonly details?: string;
}

export interface ResumeSession {
  readonly id: string;
  readonly path: string;
  readonly name: string;
  readonly modified: string;
  readonly firstMessage: string;
}

/** The sessions of a `list_resume_sessions` result. */
export function resumeSessions(result: unknown): { currentPath: string; sessions: ResumeSession[] } {
  const sessions = list(member(result, "sessions")).flatMap((s) => {
    const path = str(member(s, "path"));
    if (!path) return [];
    return [{ id: str(member(s, "id")) ?? path, path, name: str(member(s, "name")) ?? "", modified: str(member(s, "modified")) ?? "", firstMessage: str(member(s, "firstMessage")) ?? "" }];
  });
  return { currentPath: str(member(result, "currentPath")) ?? "", sessions };
}

/** The notice (and details) for a successful command. */
export function describeResult(command: ExecName, result: unknown): Described {
  switch (command) {
    case "abort":
      return { text: "Agent stopped." };
    case "new_session":
      return { text: "Started a new session." };
    case "resume_session":
      return { text: "Resumed the session." };
    case "compact": {
      const before = num(member(result, "tokensBefore"));
      const summary = str(member(result, "summary"));
      return { text: before !== undefined ? `Compacted the conversation (${before.toLocaleString()} tokens before).` : "Compacted the conversation.", ...(summary ? { details: summary } : {}) };
    }
    case "set_session_name":
      return { text: `Renamed the session to “${str(member(result, "sessionName")) ?? "?"}”.` };
    case "set_thinking_level":
    case "cycle_thinking_level":
      return { text: `Thinking level: ${str(member(result, "thinkingLevel")) ?? "?"}.` };
    case "set_model":
      return { text: "Model switched." };
    case "cycle_model": {
      const name = str(member(result, "name")) ?? str(member(result, "id"));
      return { text: name ? `Model: ${name}.` : "The agent has no other model." };
    }
    case "get_available_models": {
      const models = list(member(result, "models")).map((m) => `${str(member(m, "provider")) ?? "?"}/${str(member(m, "id")) ?? "?"}${str(member(m, "name")) ? `  (${str(member(m, "name"))})` : ""}`);
      return { text: `${models.length} models available.`, details: models.join("\n") };
    }
    case "get_commands": {
      const commands = list(member(result, "commands")).map((c) => `/${str(member(c, "name")) ?? "?"}  ${str(member(c, "description")) ?? ""}`);
      return { text: `${commands.length} agent commands.`, details: commands.join("\n") };
    }
    case "mcp":
      return { text: "MCP status:", details: JSON.stringify(result ?? null, null, 2) };
    case "end_session":
      return { text: "The session is ending." };
    case "restart":
      return { text: "The agent is restarting." };
    default:
      return { text: `${command}: done.` };
  }
}
