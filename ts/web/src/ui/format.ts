import type { ModelInfo } from "@pizzapi/protocol";

/** The last segment of a path. */
function basename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() || path;
}

/** What a session is called: its name, else the folder it works in. */
export function sessionTitle(name: string | null | undefined, cwd: string): string {
  return name || (cwd ? basename(cwd) : "") || "Untitled session";
}

export function modelLabel(m: ModelInfo | null | undefined): string {
  return m ? (m.name ?? m.id) : "";
}

/** "provider/model-id" as a model; undefined when empty, an Error when malformed. */
export function parseModel(text: string): ModelInfo | undefined | Error {
  const t = text.trim();
  if (!t) return undefined;
  const slash = t.indexOf("/");
  if (slash <= 0 || slash === t.length - 1) return new Error("Write the model as provider/model-id.");
  return { provider: t.slice(0, slash), id: t.slice(slash + 1) };
}

export const modelKey = (m: ModelInfo) => `${m.provider}/${m.id}`;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** "5 minutes ago", "yesterday", ... for an ISO time. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}
