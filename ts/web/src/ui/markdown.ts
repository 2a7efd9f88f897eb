// Agent text as HTML: CommonMark + GFM (tables, task lists, strikethrough, autolinks) by marked,
// then sanitized by DOMPurify. Raw HTML in the text is shown as text, not rendered; what marked
// produces is sanitized anyway (no script, no event handlers, no javascript: URLs, no SVG or
// MathML), and links open in a new tab without access to this page. Tested with hostile markdown
// in test/markdown.test.ts and in the browser test.

import DOMPurify from "dompurify";
import { Marked } from "marked";

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => escapes[c] ?? c);

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    // Raw HTML blocks and inline tags become visible text.
    html: ({ text, block }) => (block ? `<p>${escape(text.trimEnd()).replace(/\n/g, "<br>")}</p>` : escape(text)),
  },
});

const purify = DOMPurify();
purify.addHook("afterSanitizeAttributes", (node) => {
  // Code blocks scroll sideways: keyboard users need to reach them.
  if (node.tagName === "PRE") node.setAttribute("tabindex", "0");
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  // Only a fence's language class survives (the highlighter reads it); page styles stay out of reach.
  const cls = node.getAttribute("class");
  if (cls !== null && !(node.tagName === "CODE" && /^language-[\w+#.-]+$/.test(cls))) node.removeAttribute("class");
  if (node.tagName === "INPUT") {
    // Inputs come only from GFM task lists (raw HTML is escaped): boxes that show the state and
    // are not controls.
    node.setAttribute("type", "checkbox");
    node.setAttribute("disabled", "");
    node.setAttribute("aria-label", node.hasAttribute("checked") ? "done" : "not done");
  }
});

const config = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "button", "textarea", "select", "iframe", "object", "embed", "base", "link", "meta"],
  FORBID_ATTR: ["style", "id", "name"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/(?!\/))/i,
};

/** The sanitized HTML of a markdown text. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return purify.sanitize(html, config);
}
