import { describe, expect, it } from "vitest";
import { splitRows, stats, unifiedRows } from "../src/ui/diff";

const before = "package a\n\nfunc A() int {\n\treturn 1\n}\n";
const after = "package a\n\nfunc A() int {\n\treturn 2\n}\n\nfunc B() {}\n";

describe("diff rows", () => {
  it("numbers unchanged, removed and added lines in the unified view", () => {
    const rows = unifiedRows(before, after);
    expect(rows).toEqual([
      { kind: "same", text: "package a", oldNo: 1, newNo: 1 },
      { kind: "same", text: "", oldNo: 2, newNo: 2 },
      { kind: "same", text: "func A() int {", oldNo: 3, newNo: 3 },
      { kind: "del", text: "\treturn 1", oldNo: 4, newNo: null },
      { kind: "add", text: "\treturn 2", oldNo: null, newNo: 4 },
      { kind: "same", text: "}", oldNo: 5, newNo: 5 },
      { kind: "add", text: "", oldNo: null, newNo: 6 },
      { kind: "add", text: "func B() {}", oldNo: null, newNo: 7 },
    ]);
    expect(stats(rows)).toEqual({ added: 3, removed: 1 });
  });

  it("pairs a change's removed and added lines side by side", () => {
    const rows = splitRows(before, after);
    expect(rows[3]).toEqual({ left: { no: 4, text: "\treturn 1", changed: true }, right: { no: 4, text: "\treturn 2", changed: true } });
    expect(rows.at(-1)).toEqual({ left: null, right: { no: 7, text: "func B() {}", changed: true } });
    expect(rows).toHaveLength(7);
  });

  it("handles texts without a final newline and empty texts", () => {
    expect(unifiedRows("", "x")).toEqual([{ kind: "add", text: "x", oldNo: null, newNo: 1 }]);
    expect(unifiedRows("a\nb", "a\nc")).toEqual([
      { kind: "same", text: "a", oldNo: 1, newNo: 1 },
      { kind: "del", text: "b", oldNo: 2, newNo: null },
      { kind: "add", text: "c", oldNo: null, newNo: 2 },
    ]);
    expect(unifiedRows("same\n", "same\n")).toEqual([{ kind: "same", text: "same", oldNo: 1, newNo: 1 }]);
  });
});
