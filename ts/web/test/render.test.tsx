import { describe, expect, it } from "vitest";
import { render } from "preact-render-to-string";
import { argsSummary, MessageView } from "../src/session/Message";
import { Markdown } from "../src/ui/Markdown";
import { ago, parseModel, sessionTitle } from "../src/ui/format";

describe("Markdown", () => {
  it("renders fenced code, inline code, bold, lists, headings and quotes", () => {
    const html = render(<Markdown text={"# Plan\n\nRun `go test` **now**:\n\n- one\n- two\n\n1. first\n\n> quoted\n\n```go\nfunc main() {}\n```\nafter"} />);
    expect(html).toContain('<p class="md-h md-h1">Plan</p>');
    expect(html).toContain("Run <code>go test</code> <strong>now</strong>:");
    expect(html).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(html).toContain("<ol><li>first</li></ol>");
    expect(html).toContain("<blockquote>quoted</blockquote>");
    expect(html).toContain('<pre class="code"><code>func main() {}</code></pre>');
    expect(html).toContain("<p>after</p>");
  });

  it("keeps an unclosed fence as code while it streams", () => {
    expect(render(<Markdown text={"Here:\n```\nls -la"} />)).toContain("<code>ls -la</code>");
  });

  it("escapes HTML and links only http(s) URLs", () => {
    const html = render(<Markdown text={'<img src=x onerror="alert(1)"> [ok](https://example.com) [bad](javascript:alert(1))'} />);
    expect(html).not.toContain("<img");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noreferrer noopener">ok</a>');
    expect(html).not.toContain('href="javascript');
  });
});

describe("MessageView", () => {
  it("renders thinking with its duration, text, and a tool call with its outcome", () => {
    const html = render(
      <MessageView
        message={{
          key: 1,
          role: "assistant",
          streaming: false,
          stopped: "Request was aborted",
          blocks: [
            { kind: "thinking", text: "hmm", seconds: 3 },
            { kind: "text", text: "Running the tests." },
            { kind: "text", text: "" },
            { kind: "tool", id: "t1", name: "bash", args: { command: "go test ./..." } },
          ],
        }}
        tools={{ t1: { name: "bash", args: { command: "go test ./..." }, state: "failed", output: "FAIL" } }}
      />,
    );
    expect(html).toContain('<article class="msg msg-assistant" data-role="assistant">');
    expect(html).toContain("<summary>Thought for 3s</summary>");
    expect(html).toContain("<p>Running the tests.</p>");
    expect(html).toContain('<details class="tool tool-failed">');
    expect(html).toContain('<span class="tool-args">go test ./...</span>');
    expect(html).toContain('<pre class="tool-io tool-output">FAIL</pre>');
    expect(html).toContain('<p class="msg-note">Request was aborted</p>');
  });

  it("shows a thinking block without a duration as in progress only while the message streams", () => {
    const message = { key: 1, role: "assistant" as const, stopped: null, blocks: [{ kind: "thinking" as const, text: "hm", seconds: null }] };
    expect(render(<MessageView message={{ ...message, streaming: true }} tools={{}} />)).toContain("<summary>Thinking…</summary>");
    expect(render(<MessageView message={{ ...message, streaming: false }} tools={{}} />)).toContain("<summary>Thought</summary>");
  });

  it("shows a call without a run yet as running", () => {
    const html = render(<MessageView message={{ key: 2, role: "assistant", streaming: true, stopped: null, blocks: [{ kind: "tool", id: "x", name: "read", args: {} }] }} tools={{}} />);
    expect(html).toContain("tool-running");
  });
});

describe("formatting", () => {
  it("summarises tool arguments by their most telling field", () => {
    expect(argsSummary({ path: "a.go", limit: 3 })).toBe("a.go");
    expect(argsSummary({ n: 1 })).toBe('{"n":1}');
    expect(argsSummary({ text: "x".repeat(200) })).toHaveLength(101);
    expect(argsSummary(undefined)).toBe("");
  });

  it("names sessions and parses models", () => {
    expect(sessionTitle("named", "/a/b")).toBe("named");
    expect(sessionTitle(null, "/home/ada/project/")).toBe("project");
    expect(sessionTitle(null, "")).toBe("Untitled session");
    expect(parseModel(" openai/gpt-5 ")).toEqual({ provider: "openai", id: "gpt-5" });
    expect(parseModel("openrouter/meta/llama")).toEqual({ provider: "openrouter", id: "meta/llama" });
    expect(parseModel("")).toBeUndefined();
    expect(parseModel("gpt-5")).toBeInstanceOf(Error);
  });

  it("says how long ago", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(ago("2026-01-01T11:59:50Z", now)).toBe("just now");
    expect(ago("2026-01-01T11:55:00Z", now)).toMatch(/5 minutes ago/);
  });
});
