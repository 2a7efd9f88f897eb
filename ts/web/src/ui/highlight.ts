// Which language a file or fence is in, and the highlighter, loaded lazily (its chunk is fetched
// the first time code is shown).

const byExtension: Record<string, string> = {
  sh: "bash", bash: "bash", zsh: "bash", c: "c", h: "c", cc: "cpp", cpp: "cpp", hpp: "cpp", css: "css",
  diff: "diff", patch: "diff", go: "go", mod: "go", ini: "ini", toml: "ini", cfg: "ini", java: "java",
  js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "javascript", json: "json", md: "markdown",
  py: "python", rs: "rust", sql: "sql", ts: "typescript", tsx: "typescript", mts: "typescript",
  html: "xml", xml: "xml", svg: "xml", yml: "yaml", yaml: "yaml",
};

const byName: Record<string, string> = { dockerfile: "dockerfile", makefile: "makefile", "go.mod": "go" };

const aliases: Record<string, string> = {
  sh: "bash", shell: "shell", console: "shell", zsh: "bash", js: "javascript", ts: "typescript", tsx: "typescript",
  jsx: "javascript", py: "python", rs: "rust", yml: "yaml", html: "xml", golang: "go", toml: "ini", "c++": "cpp",
};

/** The highlight.js language of a path, or null. */
export function languageOfPath(path: string): string | null {
  const name = path.split("/").pop()?.toLowerCase() ?? "";
  if (byName[name]) return byName[name] ?? null;
  const dot = name.lastIndexOf(".");
  return dot >= 0 ? (byExtension[name.slice(dot + 1)] ?? null) : null;
}

/** The highlight.js language of a code fence's info string, or null. */
export function languageOfFence(info: string): string | null {
  const word = info.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  if (!word) return null;
  return aliases[word] ?? word;
}

type Highlighter = (code: string, language: string) => string | null;

let loading: Promise<Highlighter> | null = null;

/** The highlighter, loading its chunk on first use. */
export function loadHighlighter(): Promise<Highlighter> {
  loading ??= import("./hljs").then(
    (m) => m.highlight,
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}
