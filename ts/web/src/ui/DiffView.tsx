import { useEffect, useState } from "preact/hooks";
import { wide } from "./media";

type DiffModule = typeof import("./diff");

let loading: Promise<DiffModule> | null = null;

/**
 * The diff of an edit: unified on narrow screens, side by side on wide ones. The diff library is
 * a chunk of its own, loaded when the first diff shows.
 */
export function DiffView({ before, after, path }: { before: string; after: string; path: string }) {
  const [mod, setMod] = useState<DiffModule | null>(null);
  useEffect(() => {
    let live = true;
    loading ??= import("./diff");
    loading.then(
      (m) => live && setMod(m),
      () => {
        loading = null;
      },
    );
    return () => {
      live = false;
    };
  }, []);
  if (!mod) return <p class="muted">Loading the diff…</p>;
  const rows = mod.unifiedRows(before, after);
  const { added, removed } = mod.stats(rows);
  const summary = (
    <p class="diff-stats">
      <span class="diff-add-count">+{added}</span> <span class="diff-del-count">−{removed}</span>
    </p>
  );
  if (wide.value) {
    return (
      <div class="diff diff-split" role="table" aria-label={`Changes to ${path}, side by side`} tabIndex={0}>
        {summary}
        {mod.splitRows(before, after).map((r, i) => (
          <div class="diff-row" role="row" key={i}>
            <span class="diff-no" role="cell">{r.left?.no ?? ""}</span>
            <span class={`diff-cell${r.left?.changed ? " diff-del" : ""}${r.left ? "" : " diff-empty"}`} role="cell">
              {r.left?.text ?? ""}
            </span>
            <span class="diff-no" role="cell">{r.right?.no ?? ""}</span>
            <span class={`diff-cell${r.right?.changed ? " diff-add" : ""}${r.right ? "" : " diff-empty"}`} role="cell">
              {r.right?.text ?? ""}
            </span>
          </div>
        ))}
      </div>
    );
  }
  return (
    <div class="diff diff-unified" role="table" aria-label={`Changes to ${path}`} tabIndex={0}>
      {summary}
      {rows.map((r, i) => (
        <div class={`diff-row diff-${r.kind}`} role="row" key={i}>
          <span class="diff-no" role="cell">{r.oldNo ?? ""}</span>
          <span class="diff-no" role="cell">{r.newNo ?? ""}</span>
          <span class="diff-sign" role="cell" aria-label={r.kind === "add" ? "added" : r.kind === "del" ? "removed" : "unchanged"}>
            {r.kind === "add" ? "+" : r.kind === "del" ? "−" : " "}
          </span>
          <span class="diff-cell" role="cell">{r.text}</span>
        </div>
      ))}
    </div>
  );
}

/** A unified patch (git diff output) with its lines coloured. */
export function PatchView({ patch, label }: { patch: string; label: string }) {
  if (!patch.trim()) return <p class="muted">No changes.</p>;
  return (
    <pre class="patch" aria-label={label} tabIndex={0}>
      {patch.split("\n").map((line, i) => {
        const kind = line.startsWith("+++") || line.startsWith("---") ? "meta" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "same";
        return (
          <span key={i} class={`patch-${kind}`}>
            {line}
            {"\n"}
          </span>
        );
      })}
    </pre>
  );
}
