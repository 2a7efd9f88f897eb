// Which card shows a tool call, and the facts the cards read from its arguments and output. Pure
// (test/tools.test.ts).

import { isObj, list, member, num, str } from "../read";

export type ToolKind = "bash" | "read" | "edit" | "write" | "todo" | "question" | "generic";

/** The card for a tool name (pi's tools, PizzaPi's AskUserQuestion and todo tools). */
export function toolKind(name: string): ToolKind {
  const n = name.toLowerCase().replace(/[-_ ]/g, "");
  if (n === "bash" || n === "shell" || n === "exec") return "bash";
  if (n === "read" || n === "readfile") return "read";
  if (n === "edit" || n === "editfile" || n === "multiedit") return "edit";
  if (n === "write" || n === "writefile") return "write";
  if (n === "todo" || n === "todowrite" || n === "updatetodo" || n === "updatetodos" || n === "todoupdate") return "todo";
  if (n === "askuserquestion" || n === "askuser" || n === "question") return "question";
  return "generic";
}

/** The file path argument of a file tool. */
export function pathArg(args: unknown): string {
  return str(member(args, "path")) ?? str(member(args, "file_path")) ?? str(member(args, "filePath")) ?? "";
}

/** The replacements of an edit: pi's {oldText, newText}, or a list of them under `edits`. */
export function editsOf(args: unknown): { before: string; after: string }[] {
  const one = (v: unknown) => {
    const before = str(member(v, "oldText")) ?? str(member(v, "old_string")) ?? str(member(v, "old_str"));
    const after = str(member(v, "newText")) ?? str(member(v, "new_string")) ?? str(member(v, "new_str"));
    return before !== undefined && after !== undefined ? [{ before, after }] : [];
  };
  const many = list(member(args, "edits")).flatMap(one);
  return many.length > 0 ? many : one(args);
}

/** The exit status of a bash run: pi ends a failed run's output with "Command exited with code N". */
export function exitCode(output: string, state: "running" | "done" | "failed"): number | null {
  const m = /(?:Command )?exited with code (-?\d+)\s*$/i.exec(output.trimEnd());
  if (m) return Number(m[1]);
  if (state === "done") return 0;
  return null;
}

/** The output without pi's trailing exit line (shown as a badge instead). */
export function withoutExitLine(output: string): string {
  return output.replace(/\n*Command exited with code -?\d+\s*$/i, "");
}

/** The first line a read shows (its offset argument, 1-based). */
export function firstLineOf(args: unknown): number {
  const offset = num(member(args, "offset"));
  return offset !== undefined && offset >= 1 ? Math.floor(offset) : 1;
}

/** The todo items in a todo tool's arguments. */
export function todoItems(args: unknown): { text: string; status: string }[] {
  const items = isObj(args) ? (args["todos"] ?? args["items"] ?? args["todoList"]) : undefined;
  return list(items).flatMap((t) => {
    const text = str(member(t, "content")) ?? str(member(t, "text")) ?? str(member(t, "title"));
    return text ? [{ text, status: str(member(t, "status")) ?? "pending" }] : [];
  });
}

/** Lines of output shown before "Show all": long output is collapsed to its end. */
export const collapsedLines = 12;
