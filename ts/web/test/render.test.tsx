// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { render } from "preact-render-to-string";
import { argsSummary, MessageView } from "../src/session/Message";
import { Markdown } from "../src/ui/Markdown";
import { ago, parseModel, sessionTitle } from "../src/ui/format";

describe("Markdown", () => {
  it("renders CommonMark with GFM tables, task lists, strikethrough and autolinks", () => {
    const html = render(
      <Markdown text={"# Plan\n\nRun `go test` **now**:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ see https://example.com\n\n```go\nfunc main() {}\n```"} />,
    );
    expect(html).toContain("<h1>Plan</h1>");
    expect(html).toContain("Run <code>go test</code> <strong>now</strong>:");
    expect(html).toContain("<table>");
    expect(html).toContain("<td>1</td>");
    expect(html).toMatch(/<input[^>]*checked[^>]*disabled|<input[^>]*disabled[^>]*checked/);
    expect(html).toContain("<del>old</del>");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">https://example.com</a>');
    expect(html).toContain('<code class="language-go">func main() {}');
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
        tools={{ t1: { name: "bash", args: { command: "go test ./..." }, state: "failed", output: "FAIL\nCommand exited with code 1", images: [] } }}
      />,
    );
    expect(html).toContain('<article class="msg msg-assistant" data-role="assistant">');
    expect(html).toContain("<summary>Thought for 3s</summary>");
    expect(html).toContain("<p>Running the tests.</p>");
    expect(html).toContain('<details class="tool tool-failed tool-kind-bash" data-tool="bash">');
    expect(html).toContain('<span class="tool-args">go test ./...</span>');
    expect(html).toContain('<span class="badge badge-bad">exit 1</span>');
    expect(html).toContain('<pre class="tool-io tool-output" aria-label="command output" tabindex="0">FAIL</pre>');
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
