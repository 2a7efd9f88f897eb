import { commands } from "@pizzapi/protocol";
import { describe, expect, it } from "vitest";
import { builtins, commandWord, complete, itemName, parse, type ExecName } from "../src/session/commands";
import { describeResult, resumeSessions } from "../src/session/results";

const agent = [
  { name: "review", description: "Review the changes" },
  { name: "skill:go-bench", description: "Benchmark" },
];

describe("slash commands", () => {
  it("knows the command word only while the first word is typed", () => {
    expect(commandWord("/")).toBe("");
    expect(commandWord("/com")).toBe("com");
    expect(commandWord("/compact now")).toBeNull();
    expect(commandWord("hello /x")).toBeNull();
  });

  it("completes built-in and agent commands, prefix matches first", () => {
    expect(complete("co", agent).map(itemName)).toEqual(["compact", "copy", "commands"]);
    expect(complete("re", agent).map(itemName)).toEqual(["resume", "restart", "review"]);
    expect(complete("bench", agent).map(itemName)).toEqual(["skill:go-bench"]);
    expect(complete("", agent)).toHaveLength(builtins.length + agent.length);
  });

  it("parses every built-in command into its exec request", () => {
    const cases: [string, unknown][] = [
      ["/new", { command: "new_session" }],
      ["/resume", { command: "list_resume_sessions" }],
      ["/compact", { command: "compact" }],
      ["/compact keep the test plan", { command: "compact", customInstructions: "keep the test plan" }],
      ["/name  Auth bug ", { command: "set_session_name", name: "Auth bug" }],
      ["/thinking", { command: "cycle_thinking_level" }],
      ["/thinking high", { command: "set_thinking_level", level: "high" }],
      ["/model", { command: "cycle_model" }],
      ["/model openai/gpt-5", { command: "set_model", provider: "openai", modelId: "gpt-5" }],
      ["/models", { command: "get_available_models" }],
      ["/copy", { command: "get_last_assistant_text" }],
      ["/mcp", { command: "mcp", action: "status" }],
      ["/mcp reload", { command: "mcp", action: "reload" }],
      ["/stop", { command: "abort" }],
      ["/commands", { command: "get_commands" }],
      ["/export", { command: "export_html" }],
      ["/export /tmp/s.html", { command: "export_html", outputPath: "/tmp/s.html" }],
      ["/steering-mode all", { command: "set_steering_mode", mode: "all" }],
      ["/follow-up-mode one-at-a-time", { command: "set_follow_up_mode", mode: "one-at-a-time" }],
      ["/restart", { command: "restart" }],
      ["/end", { command: "end_session" }],
    ];
    for (const [text, request] of cases) {
      const p = parse(text, agent);
      expect(p.kind, text).toBe("exec");
      if (p.kind === "exec") expect(p.request, text).toEqual(request);
    }
  });

  it("reaches every exec command of the contract", () => {
    // What the user types for each command; a command the contract adds must be given its way in.
    // extension_ui_response is sent by the dialog cards (test/dialogs.test.tsx).
    const typed: Record<Exclude<ExecName, "extension_ui_response">, string> = {
      get_commands: "/commands",
      mcp: "/mcp reload",
      abort: "/stop",
      set_model: "/model anthropic/claude-opus-4-1",
      cycle_model: "/model",
      get_available_models: "/models",
      set_thinking_level: "/thinking low",
      cycle_thinking_level: "/thinking",
      set_steering_mode: "/steering-mode all",
      set_follow_up_mode: "/follow-up-mode all",
      compact: "/compact",
      set_session_name: "/name x",
      get_last_assistant_text: "/copy",
      list_resume_sessions: "/resume",
      // Sent by the /resume dialog when the user picks a session (test/composer.test.tsx).
      resume_session: "/resume",
      new_session: "/new",
      end_session: "/end",
      export_html: "/export",
      restart: "/restart",
    };
    const typedNames = commands.execNames.filter((n) => n !== "extension_ui_response");
    expect(Object.keys(typed).sort()).toEqual([...typedNames].sort());
    for (const name of typedNames) {
      const p = parse(typed[name], agent);
      expect(p.kind === "exec" && p.request.command, name).toBe(name === "resume_session" ? "list_resume_sessions" : name);
    }
    expect(parse("/steering-mode fast", agent)).toMatchObject({ kind: "error", message: expect.stringContaining("one-at-a-time") });
  });

  it("asks before ending or restarting the agent", () => {
    for (const text of ["/end", "/restart"]) {
      const p = parse(text, agent);
      expect(p.kind === "exec" && p.command.confirm).toBeTruthy();
    }
  });

  it("says what is wrong with a command", () => {
    expect(parse("/name", agent)).toMatchObject({ kind: "error", message: expect.stringContaining("/name <name>") });
    expect(parse("/thinking loud", agent)).toMatchObject({ kind: "error", message: expect.stringContaining("loud") });
    expect(parse("/model gpt-5", agent)).toMatchObject({ kind: "error", message: expect.stringContaining("provider/model-id") });
    expect(parse("/nope", agent)).toMatchObject({ kind: "error", message: expect.stringContaining("Unknown command /nope") });
  });

  it("sends agent commands, plain text and escaped slashes as messages", () => {
    expect(parse("/review the auth code", agent)).toEqual({ kind: "message", text: "/review the auth code" });
    expect(parse("  fix it  ", agent)).toEqual({ kind: "message", text: "fix it" });
    expect(parse("//etc/hosts is odd", agent)).toEqual({ kind: "message", text: "/etc/hosts is odd" });
  });
});

describe("command results", () => {
  it("describes results for the notice", () => {
    expect(describeResult("compact", { tokensBefore: 12840, summary: "s" })).toEqual({ text: "Compacted the conversation (12,840 tokens before).", details: "s" });
    expect(describeResult("set_session_name", { sessionName: "x" }).text).toBe("Renamed the session to “x”.");
    expect(describeResult("cycle_thinking_level", { thinkingLevel: "high" }).text).toBe("Thinking level: high.");
    expect(describeResult("cycle_model", { provider: "openai", id: "gpt-5", name: "GPT-5" }).text).toBe("Model: GPT-5.");
    expect(describeResult("cycle_model", null).text).toBe("The agent has no other model.");
    expect(describeResult("get_available_models", { models: [{ provider: "openai", id: "gpt-5" }] })).toEqual({ text: "1 models available.", details: "openai/gpt-5" });
    expect(describeResult("mcp", { servers: [] }).details).toContain('"servers"');
  });

  it("reads the resume list", () => {
    expect(resumeSessions({ currentPath: "/a", sessions: [{ id: "1", path: "/a", name: "one", modified: "today", firstMessage: "hi" }, { id: "2" }] })).toEqual({
      currentPath: "/a",
      sessions: [{ id: "1", path: "/a", name: "one", modified: "today", firstMessage: "hi" }],
    });
  });
});
