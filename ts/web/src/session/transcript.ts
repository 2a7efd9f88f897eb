// The transcript part of a session's view: agent messages become chat messages made of blocks, and
// tool results are kept per tool call so that a call and its outcome render together.

import type { AgentMessage, AssistantMessageEvent, ContentBlock } from "@pizzapi/protocol";
import { isObj, list, member, num, str } from "../read";

export type Block =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "thinking"; readonly text: string; readonly seconds: number | null }
  | { readonly kind: "tool"; readonly id: string; readonly name: string; readonly args: unknown }
  | { readonly kind: "image"; readonly src: string };

export interface ChatMessage {
  /** Stable identity for rendering. */
  readonly key: number;
  readonly role: "user" | "assistant";
  /** One block per content block of the agent message, at the same index. */
  readonly blocks: readonly Block[];
  /** True while the assistant message is still streaming. */
  readonly streaming: boolean;
  /** Why an assistant message stopped short ("Request was aborted"), null when it did not. */
  readonly stopped: string | null;
}

export interface ToolRun {
  readonly name: string;
  readonly args: unknown;
  readonly state: "running" | "done" | "failed";
  readonly output: string;
  /** Images the tool returned (a screenshot, an image file it read), as data: URLs. */
  readonly images: readonly string[];
}

export type Tools = Readonly<Record<string, ToolRun>>;

const empty: Block = { kind: "text", text: "" };

function isContentBlock(v: unknown): v is ContentBlock {
  return isObj(v) && typeof v["type"] === "string";
}

/** The block of one content block; kinds the viewer does not show become an empty text block. */
function blockOf(b: unknown): Block {
  if (!isContentBlock(b)) return empty;
  switch (b.type) {
    case "text":
      return { kind: "text", text: str(b["text"]) ?? "" };
    case "thinking":
      return { kind: "thinking", text: str(b["thinking"]) ?? "", seconds: b.durationSeconds ?? null };
    case "toolCall":
      return { kind: "tool", id: str(b["id"]) ?? "", name: str(b["name"]) ?? "tool", args: b["arguments"] };
    case "image": {
      const data = str(b["data"]);
      const mime = str(b["mimeType"]) ?? "image/png";
      return data ? { kind: "image", src: `data:${mime};base64,${data}` } : empty;
    }
    default:
      return empty;
  }
}

/** The blocks of a message's content (a string or an array of content blocks). */
export function blocksOf(content: unknown): Block[] {
  if (typeof content === "string") return [{ kind: "text", text: content }];
  return list(content).map(blockOf);
}

export function roleOf(m: AgentMessage | undefined): string {
  return str(m?.role) ?? "";
}

/** Why a message stopped short: its error message when pi's stopReason is "aborted" or "error". */
export function stoppedOf(m: AgentMessage | undefined): string | null {
  const reason = str(m?.["stopReason"]);
  if (reason !== "aborted" && reason !== "error") return null;
  return str(m?.["errorMessage"]) ?? (reason === "aborted" ? "Stopped" : "Failed");
}

/** The text of a tool result: pi's `{content: [{type: "text", text}]}`, a string, or its JSON. */
export function resultText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  const content = member(v, "content");
  if (Array.isArray(content)) {
    return blocksOf(content)
      .map((b) => (b.kind === "text" ? b.text : ""))
      .join("");
  }
  return JSON.stringify(v, null, 2);
}

/** The images of a tool result (`{content: [{type: "image", data, mimeType}]}`), as data: URLs. */
export function resultImages(v: unknown): string[] {
  return blocksOf(member(v, "content")).flatMap((b) => (b.kind === "image" ? [b.src] : []));
}

/** The outcome of a `toolResult` message. */
export function toolResult(m: AgentMessage, call: ToolRun | undefined): [string, ToolRun] | null {
  const id = str(m["toolCallId"]);
  if (!id) return null;
  return [
    id,
    {
      name: call?.name ?? str(m["toolName"]) ?? "tool",
      args: call?.args,
      state: m["isError"] === true ? "failed" : "done",
      output: resultText(m),
      images: resultImages(m),
    },
  ];
}

/** Applies one streaming sub-event of `message_update` to the blocks of the streaming message. */
export function applyDelta(blocks: readonly Block[], d: AssistantMessageEvent): readonly Block[] {
  const at = d.contentIndex ?? Math.max(blocks.length - 1, 0);
  const current = blocks[at];
  let next: Block;
  switch (d.type) {
    case "text_start":
      next = { kind: "text", text: "" };
      break;
    case "text_delta":
      next = { kind: "text", text: (current?.kind === "text" ? current.text : "") + (str(d["delta"]) ?? "") };
      break;
    case "thinking_start":
      next = { kind: "thinking", text: "", seconds: null };
      break;
    case "thinking_delta":
      next = {
        kind: "thinking",
        text: (current?.kind === "thinking" ? current.text : "") + (str(d["delta"]) ?? ""),
        seconds: null,
      };
      break;
    case "toolcall_end":
      next = blockOf({ type: "toolCall", ...(isObj(d["toolCall"]) ? d["toolCall"] : {}) });
      break;
    default:
      return blocks;
  }
  const out = blocks.slice();
  while (out.length < at) out.push(empty);
  out[at] = next;
  return out;
}

/** Copies the thinking durations the relay stamped on a completed message into blocks lacking one. */
export function stampDurations(blocks: readonly Block[], content: unknown): readonly Block[] {
  const stamped = list(content);
  let changed = false;
  const out = blocks.map((b, i) => {
    const seconds = num(member(stamped[i], "durationSeconds"));
    if (b.kind !== "thinking" || b.seconds !== null || seconds === undefined) return b;
    changed = true;
    return { ...b, seconds };
  });
  return changed ? out : blocks;
}
