// The recorded session the browser test replays with `pizzapi share --jsonl`: one agent run whose
// events hold every kind of tool card (bash with long and failing output, read, edit, write, a
// todo tool, a tool returning an image, an unknown tool, and an AskUserQuestion left waiting),
// an image from the user, markdown with GFM tables and task lists, and hostile markdown that
// must stay inert.

import { readFileSync } from "node:fs";

const png = readFileSync(new URL("../public/icon-192.png", import.meta.url)).toString("base64");

export const hostileMarkdown = [
  "Hostile text follows; none of it may run:",
  "",
  "<script>window.__pwned = 'script'</script>",
  '<img src=x onerror="window.__pwned = \'img\'">',
  "[a javascript link](javascript:window.__pwned='link')",
  '<svg onload="window.__pwned = \'svg\'"><circle r="4"/></svg>',
  '<a href="https://example.com" onclick="window.__pwned = \'click\'">a link with a handler</a>',
].join("\n");

export const readContent = ["package session", "", "import \"time\"", "", "// Reconnect waits for the server.", "func Reconnect(d time.Duration) error {", "\treturn nil", "}"].join("\n");

const usage = { input: 1200, output: 340, cacheRead: 9000, cacheWrite: 0, totalTokens: 10540, cost: { input: 0.0036, output: 0.0051, cacheRead: 0.0027, cacheWrite: 0, total: 0.0114 } };

const call = (id, name, args) => ({ type: "toolCall", id, name, arguments: args });
const text = (t) => ({ type: "text", text: t });
const result = (c, content, isError = false) => [
  { type: "tool_execution_start", toolCallId: c.id, toolName: c.name, args: c.arguments },
  { type: "tool_execution_end", toolCallId: c.id, toolName: c.name, result: { content, details: {} }, isError },
  { type: "message_end", message: { role: "toolResult", toolCallId: c.id, toolName: c.name, content, isError, timestamp: 1 } },
];

export function everyToolEvents() {
  const longOutput = Array.from({ length: 30 }, (_, i) => `ok  \texample.com/app/pkg${i + 1}\t0.0${i}s`).join("\n");
  const calls = [
    call("t_bash", "bash", { command: "go test ./..." }),
    call("t_fail", "bash", { command: "go vet ./broken" }),
    call("t_read", "read", { path: "internal/session/session.go", offset: 10 }),
    call("t_edit", "edit", { path: "internal/session/session.go", oldText: "func Reconnect(d time.Duration) error {\n\treturn nil\n}", newText: "func Reconnect(d time.Duration) error {\n\ttime.Sleep(d)\n\treturn nil\n}" }),
    call("t_write", "write", { path: "scripts/check.sh", content: "#!/bin/sh\nset -e\ngo vet ./...\ngo test -race ./...\n" }),
    call("t_todo", "todo_write", { todos: [{ content: "Read the code", status: "completed" }, { content: "Fix the race", status: "in_progress" }, { content: "Write a test", status: "pending" }] }),
    call("t_shot", "screenshot", { url: "http://localhost:8080" }),
    call("t_search", "web_search", { query: "go test race detector" }),
  ];
  const user = { role: "user", content: [text("Show me every tool, and here is a screenshot"), { type: "image", data: png, mimeType: "image/png" }], timestamp: 1 };
  const first = { role: "assistant", content: [text("I'll use every tool once."), ...calls], api: "demo", provider: "anthropic", model: "claude-sonnet-4-5", usage, stopReason: "toolUse", timestamp: 2 };
  const summary = {
    role: "assistant",
    content: [
      text(
        [
          "## Summary",
          "",
          "| tool | result |",
          "|---|---|",
          "| bash | ~~failed~~ passed |",
          "| read | ok |",
          "",
          "- [x] read the code",
          "- [ ] write the test",
          "",
          "Docs: https://go.dev/doc/articles/race_detector",
          "",
          "```go",
          "func main() { fmt.Println(\"hi\") }",
          "```",
          "",
          hostileMarkdown,
        ].join("\n"),
      ),
    ],
    api: "demo",
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    usage,
    stopReason: "stop",
    timestamp: 3,
  };
  const question = { role: "assistant", content: [call("t_ask", "AskUserQuestion", { question: "Which database should the sessions use?", options: ["SQLite", "PostgreSQL"] })], api: "demo", provider: "anthropic", model: "claude-sonnet-4-5", usage, stopReason: "toolUse", timestamp: 4 };
  return [
    { type: "model_select", model: { provider: "anthropic", id: "claude-sonnet-4-5", name: "Claude Sonnet 4.5", contextWindow: 200000 } },
    { type: "agent_start" },
    { type: "message_start", message: user },
    { type: "message_end", message: user },
    { type: "todo_update", todos: [{ id: "1", content: "Read the code", status: "completed" }, { id: "2", content: "Fix the race", status: "in_progress" }, { id: "3", content: "Write a test", status: "pending" }], ts: 1 },
    { type: "message_end", message: first },
    ...result(calls[0], [text(longOutput)]),
    ...result(calls[1], [text("broken/x.go:3:2: undefined: y\n\nCommand exited with code 1")], true),
    ...result(calls[2], [text(readContent)]),
    ...result(calls[3], [text("Successfully replaced text in internal/session/session.go.")]),
    ...result(calls[4], [text("Wrote 4 lines to scripts/check.sh")]),
    ...result(calls[5], [text("Todo list updated")]),
    ...result(calls[6], [text("Screenshot of http://localhost:8080"), { type: "image", data: png, mimeType: "image/png" }]),
    ...result(calls[7], [text("1. Data Race Detector - The Go Programming Language")]),
    { type: "message_end", message: summary },
    { type: "message_end", message: question },
    { type: "tool_execution_start", toolCallId: "t_ask", toolName: "AskUserQuestion", args: { question: "Which database should the sessions use?", options: ["SQLite", "PostgreSQL"] } },
  ];
}
