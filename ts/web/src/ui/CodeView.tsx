import { useEffect, useState } from "preact/hooks";
import { languageOfPath, loadHighlighter } from "./highlight";

/**
 * A file's text with line numbers, highlighted for its path's language once the highlighter has
 * loaded (plain until then). firstLine numbers the first line shown (a read with an offset).
 */
export function CodeView({ code, path, firstLine = 1, label }: { code: string; path: string; firstLine?: number; label?: string }) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    setHtml(null);
    const lang = languageOfPath(path);
    if (!lang || code.length > 400_000) return;
    let live = true;
    loadHighlighter().then(
      (highlight) => live && setHtml(highlight(code, lang)),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [code, path]);
  const text = code.endsWith("\n") ? code.slice(0, -1) : code;
  const count = text === "" ? 0 : text.split("\n").length;
  const numbers = Array.from({ length: count }, (_, i) => i + firstLine).join("\n");
  return (
    <div class="code-view" role="region" aria-label={label ?? path} tabIndex={0}>
      <pre class="gutter" aria-hidden="true">
        {numbers}
      </pre>
      {html === null ? (
        <pre class="code">
          <code>{text}</code>
        </pre>
      ) : (
        <pre class="code">
          <code class="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        </pre>
      )}
    </div>
  );
}
