// A small Markdown renderer for agent text, producing elements (never HTML strings): fenced code,
// headings, lists, quotes and paragraphs, with inline code, bold and http(s) links.

import type { ComponentChildren, JSX } from "preact";

const inlinePattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g;

function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(inlinePattern)) {
    out.push(text.slice(at, m.index));
    if (m[1] !== undefined) out.push(<code>{m[1]}</code>);
    else if (m[2] !== undefined) out.push(<strong>{m[2]}</strong>);
    else
      out.push(
        <a href={m[4]} target="_blank" rel="noreferrer noopener">
          {m[3]}
        </a>,
      );
    at = m.index + m[0].length;
  }
  out.push(text.slice(at));
  return out;
}

const listItem = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/;
const headingLine = /^(#{1,4})\s+(.*)$/;

/** Whether a line starts a block other than a paragraph (so it ends the paragraph before it). */
const startsBlock = (line: string) => line.trim() === "" || headingLine.test(line) || listItem.test(line) || line.startsWith(">");

/** Renders the lines of one block of text (no fences inside). */
function blocks(lines: string[]): JSX.Element[] {
  const out: JSX.Element[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const heading = headingLine.exec(line);
    if (line.trim() === "") {
      i++;
    } else if (heading) {
      out.push(<p class={`md-h md-h${heading[1]?.length ?? 1}`}>{inline(heading[2] ?? "")}</p>);
      i++;
    } else if (listItem.test(line)) {
      const ordered = listItem.exec(line)?.[1] !== undefined;
      const items: ComponentChildren[] = [];
      for (let m = listItem.exec(lines[i] ?? ""); m; m = listItem.exec(lines[++i] ?? "")) items.push(<li>{inline(m[2] ?? "")}</li>);
      out.push(ordered ? <ol>{items}</ol> : <ul>{items}</ul>);
    } else if (line.startsWith(">")) {
      const quoted: string[] = [];
      for (; (lines[i] ?? "").startsWith(">"); i++) quoted.push((lines[i] ?? "").replace(/^>\s?/, ""));
      out.push(<blockquote>{inline(quoted.join("\n"))}</blockquote>);
    } else {
      const para: string[] = [];
      do para.push(lines[i++] ?? "");
      while (i < lines.length && !startsBlock(lines[i] ?? ""));
      out.push(<p>{inline(para.join("\n"))}</p>);
    }
  }
  return out;
}

export function Markdown({ text }: { text: string }) {
  const parts = text.split(/^```[^\n]*\n?/m);
  // Even parts are prose, odd parts the content of fenced code blocks (an unclosed fence runs to the end).
  return (
    <div class="md">
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <pre class="code">
            <code>{part.replace(/\n$/, "")}</code>
          </pre>
        ) : (
          blocks(part.split("\n"))
        ),
      )}
    </div>
  );
}
