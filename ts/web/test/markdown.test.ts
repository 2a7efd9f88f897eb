// @vitest-environment jsdom
// Agent text is untrusted: whatever markdown or HTML it holds must not run script, add event
// handlers, load remote content through javascript: or data: URLs, or smuggle SVG/MathML.
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../src/ui/markdown";

/** The rendered HTML, parsed as the browser would. */
function dom(text: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = renderMarkdown(text);
  return div;
}

function assertInert(el: HTMLElement) {
  expect(el.querySelector("script, iframe, object, embed, style, form, svg, math, base, link, meta")).toBeNull();
  for (const node of el.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      expect(attr.name.startsWith("on"), `${node.tagName} has ${attr.name}`).toBe(false);
      if (["href", "src", "xlink:href", "action", "formaction", "srcset"].includes(attr.name)) {
        expect(attr.value.trim().toLowerCase()).not.toMatch(/^(javascript|vbscript|data):/);
      }
    }
  }
}

const hostile = [
  "<script>alert(1)</script>",
  '<img src=x onerror="alert(1)">',
  '<a href="javascript:alert(1)">click</a>',
  "[click](javascript:alert(1))",
  "[click](JaVaScRiPt:alert(1))",
  "[click](  javascript:alert(1))",
  "[click](&#106;avascript:alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "![x](javascript:alert(1))",
  '![x](x" onerror="alert(1))',
  '<svg><script>alert(1)</script></svg>',
  '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<details open ontoggle="alert(1)">x</details>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  "<style>body{display:none}</style>",
  '<a href="https://example.com" onclick="alert(1)">x</a>',
  "[x](https://example.com \"title\" onmouseover=alert(1))",
  "<<script>script>alert(1)<</script>/script>",
  '```\n</code></pre><script>alert(1)</script>\n```',
  "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
  "- [ ] <img src=x onerror=alert(1)>",
];

describe("renderMarkdown with hostile input", () => {
  for (const text of hostile) {
    it(`keeps ${JSON.stringify(text).slice(0, 60)} inert`, () => assertInert(dom(text)));
  }

  it("shows raw HTML as text instead of rendering it", () => {
    const el = dom("Look: <script>alert(1)</script> and <b>bold</b>");
    expect(el.textContent).toContain("<script>alert(1)</script>");
    expect(el.querySelector("b")).toBeNull();
  });

  it("drops javascript: links but keeps their text", () => {
    const el = dom("[click me](javascript:alert(1))");
    expect(el.textContent).toContain("click me");
    const a = el.querySelector("a");
    expect(a?.getAttribute("href") ?? null).toBeNull();
  });

  it("opens links in a new tab without access to the page", () => {
    const a = dom("[docs](https://example.com/docs)").querySelector("a");
    expect(a?.getAttribute("href")).toBe("https://example.com/docs");
    expect(a?.getAttribute("target")).toBe("_blank");
    expect(a?.getAttribute("rel")).toContain("noopener");
  });

  it("keeps task list boxes disabled", () => {
    const boxes = dom("- [x] done\n- [ ] open").querySelectorAll("input");
    expect(boxes).toHaveLength(2);
    for (const b of boxes) {
      expect(b.disabled).toBe(true);
      expect(b.type).toBe("checkbox");
    }
    expect(boxes[0]?.checked).toBe(true);
    expect(boxes[1]?.checked).toBe(false);
  });
});
