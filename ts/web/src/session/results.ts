// What the composer tells the user about an exec command's result: one entry per command of the
// contract, so that a command added to schema/commands.json makes the compiler ask how its result
// is shown. Pure (test/commands.test.ts). Results come from the agent, so lists are read
// defensively.

import type { commands } from "@pizzapi/protocol";
import { list, member, num, str } from "../read";
import type { ExecName } from "./commands";

export interface Described {
  /** One line for the notice. */
  readonly text: string;
  /** More to show in a dialog (a list, a status object), when there is any. */
  readonly details?: string;
  /** The earlier sessions to pick one from (`list_resume_sessions`). */
  readonly resume?: { readonly currentPath: string; readonly sessions: readonly ResumeSession[] };
  /** Text to copy to the clipboard (`get_last_assistant_text`). */
  readonly copy?: string;
}

export interface ResumeSession {
  readonly id: string;
  readonly path: string;
  readonly name: string;
  readonly modified: string;
  readonly firstMessage: string;
}

/** The sessions of a `list_resume_sessions` result. */
export function resumeSessions(result: commands.ResumeSessionList | unknown): { currentPath: string; sessions: ResumeSession[] } {
  const sessions = list(member(result, "sessions")).flatMap((s) => {
    const path = str(member(s, "path"));
    if (!path) return [];
    return [{ id: str(member(s, "id")) ?? path, path, name: str(member(s, "name")) ?? "", modified: str(member(s, "modified")) ?? "", firstMessage: str(member(s, "firstMessage")) ?? "" }];
  });
  return { currentPath: str(member(result, "currentPath")) ?? "", sessions };
}

const thinking = (r: commands.ThinkingLevelResult): Described => {
  const level = str(member(r, "thinkingLevel"));
  return { text: level ? `Thinking level: ${level}.` : "The model does not think." };
};

const describers: { readonly [K in ExecName]: (result: commands.ExecResultOf<K>) => Described } = {
  get_commands: (r) => {
    const lines = list(member(r, "commands")).map((c) => `/${str(member(c, "name")) ?? "?"}  ${str(member(c, "description")) ?? ""}`);
    return { text: `${lines.length} agent commands.`, details: lines.join("\n") };
  },
  mcp: (r) => ({ text: "MCP status:", details: JSON.stringify(r ?? null, null, 2) }),
  abort: () => ({ text: "Agent stopped." }),
  set_model: () => ({ text: "Model switched." }),
  cycle_model: (m) => {
    const name = str(member(m, "name")) ?? str(member(m, "id"));
    return { text: name ? `Model: ${name}.` : "The agent has no other model." };
  },
  get_available_models: (r) => {
    const models = list(member(r, "models")).map((m) => `${str(member(m, "provider")) ?? "?"}/${str(member(m, "id")) ?? "?"}${str(member(m, "name")) ? `  (${str(member(m, "name"))})` : ""}`);
    return { text: `${models.length} models available.`, details: models.join("\n") };
  },
  set_thinking_level: thinking,
  cycle_thinking_level: thinking,
  set_steering_mode: () => ({ text: "Steering mode set." }),
  set_follow_up_mode: () => ({ text: "Follow-up mode set." }),
  compact: (r) => {
    const before = num(member(r, "tokensBefore"));
    const summary = str(member(r, "summary"));
    return { text: before !== undefined ? `Compacted the conversation (${before.toLocaleString()} tokens before).` : "Compacted the conversation.", ...(summary ? { details: summary } : {}) };
  },
  set_session_name: (r) => ({ text: `Renamed the session to “${str(member(r, "sessionName")) ?? "?"}”.` }),
  get_last_assistant_text: (r) => {
    const text = str(member(r, "text"));
    return text ? { text: "Copied the last answer.", copy: text } : { text: "The agent has no answer to copy yet." };
  },
  list_resume_sessions: (r) => {
    const resume = resumeSessions(r);
    return { text: `${resume.sessions.length} earlier sessions.`, resume };
  },
  resume_session: (r) => {
    const s = member(r, "session");
    const name = str(member(s, "name")) || str(member(s, "firstMessage"));
    return { text: name ? `Resumed “${name}”.` : "Resumed the session." };
  },
  new_session: () => ({ text: "Started a new session." }),
  end_session: () => ({ text: "The session is ending." }),
  export_html: (r) => ({ text: `Exported the session to ${str(member(r, "path")) ?? "?"}.` }),
  restart: () => ({ text: "The agent is restarting." }),
  extension_ui_response: () => ({ text: "Answered the agent's dialog." }),
};

/** The notice (and details) for a successful command. */
export function describeResult<K extends ExecName>(command: K, result: commands.ExecResultOf<K>): Described {
  return describers[command](result);
}
