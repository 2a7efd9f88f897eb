import { useEffect, useMemo, useRef } from "preact/hooks";
import { languageOfFence, loadHighlighter } from "./highlight";
import { renderMarkdown } from "./markdown";

/** Highlights the fenced code blocks under el once the highlighter has loaded. */
function highlightBlocks(el: HTMLElement): void {
  const blocks = [...el.querySelectorAll<HTMLElement>("pre > code[class*='language-']")];
  if (blocks.length === 0) return;
  void loadHighlighter().then((highlight) => {
    for (const code of blocks) {
      if (!code.isConnected || code.dataset["highlighted"]) continue;
      const lang = languageOfFence(/language-(\S+)/.exec(code.className)?.[1] ?? "");
      const html = lang ? highlight(code.textContent ?? "", lang) : null;
      if (html !== null) {
        code.innerHTML = html;
        code.classList.add("hljs");
      }
      code.dataset["highlighted"] = "1";
    }
  }, () => {});
}

/** Agent text rendered as sanitized CommonMark + GFM, with highlighted code blocks. */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // While a message streams its code changes with every token: highlight once it is complete.
    if (ref.current && !streaming) highlightBlocks(ref.current);
  }, [html, streaming]);
  return <div class="md" ref={ref} dangerouslySetInnerHTML={{ __html: html }} />;
}
