// Line diffs of an edit (old text to new text) with jsdiff, as rows for a unified view (phones)
// or a side-by-side view (wide screens). A chunk of its own, loaded with DiffView. Unit-tested in
// test/diff.test.ts.

import { diffLines } from "diff";

/** One line of a unified diff. */
export interface UnifiedRow {
  readonly kind: "same" | "add" | "del";
  readonly text: string;
  /** Line numbers in the old and new text (null where the line does not exist). */
  readonly oldNo: number | null;
  readonly newNo: number | null;
}

/** One row of a side-by-side diff: the old line on the left, the new one on the right. */
export interface SplitRow {
  readonly left: { readonly no: number; readonly text: string; readonly changed: boolean } | null;
  readonly right: { readonly no: number; readonly text: string; readonly changed: boolean } | null;
}

function lines(value: string): string[] {
  const out = value.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

/** The unified rows of the change from a to b. */
export function unifiedRows(a: string, b: string): UnifiedRow[] {
  const rows: UnifiedRow[] = [];
  let o = 1;
  let n = 1;
  for (const part of diffLines(a, b)) {
    for (const text of lines(part.value)) {
      if (part.added) rows.push({ kind: "add", text, oldNo: null, newNo: n++ });
      else if (part.removed) rows.push({ kind: "del", text, oldNo: o++, newNo: null });
      else rows.push({ kind: "same", text, oldNo: o++, newNo: n++ });
    }
  }
  return rows;
}

/** The side-by-side rows: removed and added lines of one change are paired up. */
export function splitRows(a: string, b: string): SplitRow[] {
  const rows: SplitRow[] = [];
  const unified = unifiedRows(a, b);
  for (let i = 0; i < unified.length; ) {
    const r = unified[i];
    if (!r) break;
    if (r.kind === "same") {
      rows.push({ left: { no: r.oldNo ?? 0, text: r.text, changed: false }, right: { no: r.newNo ?? 0, text: r.text, changed: false } });
      i++;
      continue;
    }
    const dels: UnifiedRow[] = [];
    const adds: UnifiedRow[] = [];
    while (unified[i]?.kind === "del") dels.push(unified[i++] as UnifiedRow);
    while (unified[i]?.kind === "add") adds.push(unified[i++] as UnifiedRow);
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) {
      const d = dels[k];
      const ad = adds[k];
      rows.push({
        left: d ? { no: d.oldNo ?? 0, text: d.text, changed: true } : null,
        right: ad ? { no: ad.newNo ?? 0, text: ad.text, changed: true } : null,
      });
    }
  }
  return rows;
}

/** How many lines were added and removed. */
export function stats(rows: readonly UnifiedRow[]): { added: number; removed: number } {
  return { added: rows.filter((r) => r.kind === "add").length, removed: rows.filter((r) => r.kind === "del").length };
}
