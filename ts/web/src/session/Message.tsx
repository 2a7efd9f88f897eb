import { Component } from "preact";
import { isObj, str } from "../read";
import { Markdown } from "../ui/Markdown";
import type { Block, ChatMessage, ToolRun, Tools } from "./transcript";

interface MessageProps {
  message: ChatMessage;
  tools: Tools;
}

/** One message of the conversation; re-renders only when the message or the tool runs change. */
export class MessageView extends Component<MessageProps> {
  override shouldComponentUpdate(next: MessageProps): boolean {
    return next.message !== this.props.message || next.tools !== this.props.tools;
  }

  override render({ message, tools }: MessageProps) {
    return (
      <article class={`msg msg-${message.role}${message.streaming ? " streaming" : ""}`} data-role={message.role}>
        {message.blocks.map((b, i) => (
          <BlockView key={i} block={b} tools={tools} streaming={message.streaming} />
        ))}
        {message.stopped && <p class="msg-note">{message.stopped}</p>}
      </article>
    );
  }
}

function BlockView({ block, tools, streaming }: { block: Block; tools: Tools; streaming: boolean }) {
  switch (block.kind) {
    case "text":
      return block.text.trim() === "" ? null : <Markdown text={block.text} />;
    case "thinking":
      return <Thinking text={block.text} seconds={block.seconds} streaming={streaming} />;
    case "tool":
      return <ToolCard name={block.name} args={block.args} run={tools[block.id]} />;
    case "image":
      return <img class="msg-image" src={block.src} alt="attached image" />;
  }
}

/** A thinking block: its duration once the relay stamped one, "Thinking…" while it streams. */
function Thinking({ text, seconds, streaming }: { text: string; seconds: number | null; streaming: boolean }) {
  return (
    <details class="thinking">
      <summary>{seconds !== null ? `Thought for ${seconds}s` : streaming ? "Thinking…" : "Thought"}</summary>
      <div class="thinking-text">{text}</div>
    </details>
  );
}

// The argument that says most about a call, for the one-line summary.
const summaryKeys = ["command", "path", "file_path", "pattern", "query", "url", "question"];

export function argsSummary(args: unknown): string {
  if (isObj(args)) {
    for (const k of summaryKeys) {
      const v = str(args[k]);
      if (v) return v;
    }
  }
  const json = args === undefined ? "" : JSON.stringify(args);
  return json.length > 100 ? `${json.slice(0, 100)}…` : json;
}

const stateLabel: Record<ToolRun["state"], string> = { running: "running", done: "done", failed: "failed" };

function ToolCard({ name, args, run }: { name: string; args: unknown; run: ToolRun | undefined }) {
  const state = run?.state ?? "running";
  return (
    <details class={`tool tool-${state}`}>
      <summary>
        <span class="tool-mark" aria-label={stateLabel[state]} />
        <span class="tool-name">{name}</span>
        <span class="tool-args">{argsSummary(args)}</span>
      </summary>
      {args !== undefined && <pre class="tool-io">{JSON.stringify(args, null, 2)}</pre>}
      {run?.output ? <pre class="tool-io tool-output">{run.output}</pre> : null}
    </details>
  );
}
