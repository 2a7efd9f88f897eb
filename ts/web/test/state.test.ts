import type { AgentEvent } from "@pizzapi/protocol";
import { describe, expect, it } from "vitest";
import { applyEvent, contextWindow, initialState, type SessionState } from "../src/session/state";

const apply = (events: AgentEvent[], from: SessionState = initialState) => events.reduce(applyEvent, from);

const model = { provider: "anthropic", id: "claude-sonnet-4-5", name: "Claude Sonnet 4.5" };
const user = (text: string) => ({ role: "user", content: [{ type: "text", text }] });
const delta = (type: string, contentIndex: number, d?: string): AgentEvent => ({
  type: "message_update",
  assistantMessageEvent: d === undefined ? { type, contentIndex } : { type, contentIndex, delta: d },
});

const snapshot: AgentEvent = {
  type: "session_active",
  state: {
    messages: [
      user("fix the flaky test"),
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Read the test first.", durationSeconds: 3 },
          { type: "text", text: "Reading it." },
          { type: "toolCall", id: "call_1", name: "read", arguments: { path: "a_test.go" } },
        ],
      },
      { role: "toolResult", toolCallId: "call_1", toolName: "read", content: [{ type: "text", text: "package a" }], isError: false },
    ],
    model,
    sessionName: "flaky",
    cwd: "/home/ada/project",
    thinkingLevel: "medium",
    availableModels: [model, { provider: "openai", id: "gpt-5" }],
    todoList: [{ id: "1", content: "Reproduce", status: "in_progress" }],
  },
};

describe("snapshots", () => {
  it("rebuilds the transcript, the tool results and the settings from session_active", () => {
    const s = apply([snapshot]);
    expect(s.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(s.messages[1]?.blocks).toEqual([
      { kind: "thinking", text: "Read the test first.", seconds: 3 },
      { kind: "text", text: "Reading it." },
      { kind: "tool", id: "call_1", name: "read", args: { path: "a_test.go" } },
    ]);
    expect(s.tools["call_1"]).toEqual({ name: "read", args: { path: "a_test.go" }, state: "done", output: "package a", images: [] });
    expect(s).toMatchObject({ model, sessionName: "flaky", cwd: "/home/ada/project", thinkingLevel: "medium" });
    expect(s.models).toHaveLength(2);
    expect(s.todos).toEqual([{ text: "Reproduce", status: "in_progress" }]);
  });

  it("replaces the transcript but keeps a message that is still streaming", () => {
    const streaming = apply([snapshot, { type: "message_start", message: { role: "assistant", content: [] } }, delta("text_delta", 0, "Half")]);
    const s = apply([snapshot], streaming);
    expect(s.messages).toHaveLength(3);
    expect(s.messages[2]).toMatchObject({ streaming: true, blocks: [{ kind: "text", text: "Half" }] });
    expect(new Set(s.messages.map((m) => m.key)).size).toBe(3);
  });

  it("reads a plain string content as one text block", () => {
    const s = apply([{ type: "session_active", state: { messages: [{ role: "user", content: "hello" }] } }]);
    expect(s.messages[0]?.blocks).toEqual([{ kind: "text", text: "hello" }]);
  });
});

describe("streaming", () => {
  it("streams thinking and text deltas into one message, then takes the final content and the stamped duration", () => {
    let s = apply([
      { type: "agent_start" },
      { type: "message_start", message: { role: "assistant", content: [] } },
      delta("thinking_start", 0),
      delta("thinking_delta", 0, "Let me "),
      delta("thinking_delta", 0, "look."),
      delta("thinking_end", 0),
      delta("text_start", 1),
      delta("text_delta", 1, "The "),
      delta("text_delta", 1, "answer"),
    ]);
    expect(s.active).toBe(true);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({
      streaming: true,
      blocks: [
        { kind: "thinking", text: "Let me look.", seconds: null },
        { kind: "text", text: "The answer" },
      ],
    });
    s = apply(
      [
        {
          type: "message_end",
          message: {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Let me look.", durationSeconds: 2 },
              { type: "text", text: "The answer." },
            ],
          },
        },
        { type: "agent_end", messages: [] },
      ],
      s,
    );
    expect(s.active).toBe(false);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({
      streaming: false,
      stopped: null,
      blocks: [
        { kind: "thinking", seconds: 2 },
        { kind: "text", text: "The answer." },
      ],
    });
  });

  it("starts a streaming message for an update that comes without message_start", () => {
    const s = apply([delta("text_delta", 0, "hi")]);
    expect(s.messages[0]).toMatchObject({ role: "assistant", streaming: true, blocks: [{ kind: "text", text: "hi" }] });
  });

  it("takes a streamed tool call from toolcall_end", () => {
    const s = apply([
      { type: "message_start", message: { role: "assistant", content: [] } },
      { type: "message_update", assistantMessageEvent: { type: "toolcall_start", contentIndex: 0 } },
      { type: "message_update", assistantMessageEvent: { type: "toolcall_end", contentIndex: 0, toolCall: { type: "toolCall", id: "c1", name: "bash", arguments: { command: "ls" } } } },
    ]);
    expect(s.messages[0]?.blocks).toEqual([{ kind: "tool", id: "c1", name: "bash", args: { command: "ls" } }]);
  });

  it("adds the thinking duration stamped on turn_end to the turn's message", () => {
    const s = apply([
      { type: "message_end", message: { role: "assistant", content: [{ type: "thinking", thinking: "hm" }, { type: "text", text: "ok" }] } },
      { type: "turn_end", message: { role: "assistant", content: [{ type: "thinking", thinking: "hm", durationSeconds: 4 }, { type: "text", text: "ok" }] } },
    ]);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.blocks[0]).toEqual({ kind: "thinking", text: "hm", seconds: 4 });
  });

  it("says why an aborted message stopped", () => {
    const s = apply([{ type: "message_end", message: { role: "assistant", content: [{ type: "text", text: "I was" }], stopReason: "aborted", errorMessage: "Request was aborted" } }]);
    expect(s.messages[0]?.stopped).toBe("Request was aborted");
  });

  it("adds user messages when they complete", () => {
    const s = apply([
      { type: "message_start", message: user("more tests please") },
      { type: "message_end", message: user("more tests please") },
    ]);
    expect(s.messages).toEqual([{ key: 1, role: "user", blocks: [{ kind: "text", text: "more tests please" }], streaming: false, stopped: null }]);
  });
});

describe("tools", () => {
  const call: AgentEvent = { type: "message_end", message: { role: "assistant", content: [{ type: "toolCall", id: "t1", name: "bash", arguments: { command: "go test" } }] } };

  it("follows a run from start to end", () => {
    let s = apply([call, { type: "tool_execution_start", toolCallId: "t1", toolName: "bash", args: { command: "go test" } }]);
    expect(s.messages).toHaveLength(1);
    expect(s.tools["t1"]).toEqual({ name: "bash", args: { command: "go test" }, state: "running", output: "", images: [] });
    s = apply([{ type: "tool_execution_update", toolCallId: "t1", partialResult: { content: [{ type: "text", text: "=== RUN" }] } }], s);
    expect(s.tools["t1"]?.output).toBe("=== RUN");
    s = apply([{ type: "tool_execution_end", toolCallId: "t1", result: { content: [{ type: "text", text: "FAIL" }] }, isError: true }], s);
    expect(s.tools["t1"]).toMatchObject({ state: "failed", output: "FAIL" });
  });

  it("completes a call from its toolResult message", () => {
    const s = apply([call, { type: "message_end", message: { role: "toolResult", toolCallId: "t1", toolName: "bash", content: [{ type: "text", text: "ok" }], isError: false } }]);
    expect(s.tools["t1"]).toEqual({ name: "bash", args: { command: "go test" }, state: "done", output: "ok", images: [] });
    expect(s.messages).toHaveLength(1);
  });

  it("shows a run whose call no message contains", () => {
    const s = apply([{ type: "tool_execution_start", toolCallId: "t9", toolName: "grep", args: { pattern: "TODO" } }]);
    expect(s.messages[0]?.blocks).toEqual([{ kind: "tool", id: "t9", name: "grep", args: { pattern: "TODO" } }]);
  });
});

describe("status", () => {
  it("takes activity, model, name and todos from heartbeats; an absent name keeps the old one", () => {
    let s = apply([{ type: "heartbeat", active: true, model, sessionName: "one", thinkingLevel: "high", cwd: "/w", todoList: [{ text: "a", status: "done" }] }]);
    expect(s).toMatchObject({ active: true, model, sessionName: "one", thinkingLevel: "high", cwd: "/w", todos: [{ text: "a", status: "done" }] });
    s = apply([{ type: "heartbeat", active: false }], s);
    expect(s).toMatchObject({ active: false, model, sessionName: "one" });
    s = apply([{ type: "heartbeat", active: false, model: null, sessionName: null }], s);
    expect(s).toMatchObject({ model: null, sessionName: null });
  });

  it("takes todo updates, capabilities and model changes", () => {
    const s = apply([
      { type: "todo_update", todos: [{ content: "Fix", status: "completed" }, { nothing: true }] },
      { type: "capabilities", models: [model, { provider: "x" }], commands: [] },
      { type: "model_select", model: { provider: "openai", id: "gpt-5" } },
    ]);
    expect(s.todos).toEqual([{ text: "Fix", status: "completed" }]);
    expect(s.models).toEqual([model]);
    expect(s.model).toEqual({ provider: "openai", id: "gpt-5" });
  });

  it("turns agent errors and model switch results into notices", () => {
    expect(apply([{ type: "cli_error", message: "rate limited" }]).notice).toEqual({ text: "rate limited", tone: "error" });
    expect(apply([{ type: "model_set_result", ok: true, provider: "openai", modelId: "gpt-5" }]).notice).toEqual({ text: "Model switched to openai/gpt-5", tone: "info" });
    expect(apply([{ type: "model_set_result", ok: false, provider: "x", modelId: "y", message: "Model not found" }]).notice?.tone).toBe("error");
  });

  it("ignores events it does not know", () => {
    const s = apply([snapshot]);
    expect(applyEvent(s, { type: "session_started", model: {} })).toBe(s);
    expect(applyEvent(s, { type: "message_update" })).toBe(s);
  });
});

describe("usage, questions and commands", () => {
  it("takes token use, the pending question and the context window from heartbeats and snapshots", () => {
    let s = applyEvent(initialState, {
      type: "session_active",
      state: {
        messages: [{ role: "assistant", content: [], usage: { input: 1000, output: 200, cacheRead: 8800, cacheWrite: 0 } }],
        model: { provider: "anthropic", id: "claude", contextWindow: 200000 },
        availableModels: [{ provider: "openai", id: "gpt-5", contextWindow: 400000 }],
      },
    });
    expect(s.contextTokens).toBe(10000);
    expect(contextWindow(s)).toBe(200000);
    s = applyEvent(s, {
      type: "heartbeat",
      active: true,
      model: { provider: "openai", id: "gpt-5" },
      tokenUsage: { input: 5000, output: 700, cacheRead: 100, cacheWrite: 50, cost: 0.0421 },
      pendingQuestion: { toolCallId: "q1", question: "Which database?", options: ["SQLite", { label: "PostgreSQL" }] },
    });
    expect(s.usage).toEqual({ input: 5000, output: 700, cacheRead: 100, cacheWrite: 50, cost: 0.0421 });
    expect(contextWindow(s)).toBe(400000);
    expect(s.pendingQuestion).toEqual({ toolCallId: "q1", question: "Which database?", options: ["SQLite", "PostgreSQL"] });
    s = applyEvent(s, { type: "heartbeat", active: false, pendingQuestion: null });
    expect(s.pendingQuestion).toBeNull();
    expect(s.usage?.input).toBe(5000);
  });

  it("keeps the agent's commands from capabilities and tool images from results", () => {
    let s = applyEvent(initialState, { type: "capabilities", commands: [{ name: "/review", description: "Review" }, { name: "fix" }, { nope: 1 }] });
    expect(s.commands).toEqual([
      { name: "review", description: "Review" },
      { name: "fix", description: "" },
    ]);
    s = applyEvent(s, { type: "tool_execution_start", toolCallId: "t", toolName: "screenshot", args: {} });
    s = applyEvent(s, { type: "tool_execution_end", toolCallId: "t", result: { content: [{ type: "image", data: "aGk=", mimeType: "image/png" }] } });
    expect(s.tools["t"]).toMatchObject({ state: "done", images: ["data:image/png;base64,aGk="] });
  });
});
