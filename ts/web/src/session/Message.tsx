import { Component } from "preact";
import { useContext, useState } from "preact/hooks";
import { isObj, str } from "../read";
import { CodeView } from "../ui/CodeView";
import { DiffView } from "../ui/DiffView";
import { Markdown } from "../ui/Markdown";
import { ViewContext } from "./context";
import { questionOf } from "./state";
import { collapsedLines, editsOf, exitCode, firstLineOf, pathArg, todoItems, toolKind, withoutExitLine } from "./tools";
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
      return block.text.trim() === "" ? null : <Markdown text={block.text} streaming={streaming} />;
    case "thinking":
      return <Thinking text={block.text} seconds={block.seconds} streaming={streaming} />;
    case "tool":
      return <ToolCard id={block.id} name={block.name} args={block.args} run={tools[block.id]} />;
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

interface CardProps {
  id: string;
  name: string;
  args: unknown;
  run: ToolRun | undefined;
}

/** A tool call and its outcome, drawn for its tool; unknown tools get the generic card. */
export function ToolCard(p: CardProps) {
  const kind = toolKind(p.name);
  const state = p.run?.state ?? "running";
  const body = (() => {
    switch (kind) {
      case "bash":
        return <BashBody {...p} />;
      case "read":
        return <ReadBody {...p} />;
      case "edit":
        return <EditBody {...p} />;
      case "write":
        return <WriteBody {...p} />;
      case "todo":
        return <TodoBody {...p} />;
      case "question":
        return <QuestionBody {...p} />;
      case "generic":
        return <GenericBody {...p} />;
    }
  })();
  // Running calls and questions are open; finished file and command cards open on demand.
  const open = state === "running" || kind === "question" || kind === "edit" || kind === "todo";
  return (
    <details class={`tool tool-${state} tool-kind-${kind}`} open={open} data-tool={p.name}>
      <summary>
        <span class="tool-mark" role="img" aria-label={stateLabel[state]} />
        <span class="tool-name">{p.name}</span>
        <span class="tool-args">{argsSummary(p.args)}</span>
        {kind === "bash" && <ExitBadge run={p.run} />}
      </summary>
      {body}
      {p.run && p.run.images.length > 0 && (
        <div class="tool-images">
          {p.run.images.map((src, i) => (
            <img key={i} class="msg-image" src={src} alt={`image ${i + 1} from ${p.name}`} />
          ))}
        </div>
      )}
    </details>
  );
}

function ExitBadge({ run }: { run: ToolRun | undefined }) {
  if (!run) return null;
  const code = exitCode(run.output, run.state);
  if (code === null) return run.state === "failed" ? <span class="badge badge-bad">failed</span> : null;
  return <span class={`badge ${code === 0 ? "badge-ok" : "badge-bad"}`}>exit {code}</span>;
}

/** Output that collapses to its last lines when long. */
function Output({ text, label }: { text: string; label: string }) {
  const [all, setAll] = useState(false);
  if (!text) return null;
  const lines = text.split("\n");
  const long = lines.length > collapsedLines;
  const shown = long && !all ? lines.slice(-collapsedLines).join("\n") : text;
  return (
    <div class="tool-output-wrap">
      {long && (
        <button type="button" class="btn btn-quiet btn-small" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? "Show the last lines" : `Show all ${lines.length} lines`}
        </button>
      )}
      <pre class="tool-io tool-output" aria-label={label} tabIndex={0}>
        {shown}
      </pre>
    </div>
  );
}

function BashBody({ args, run }: CardProps) {
  const command = str((args as { command?: unknown } | undefined)?.command) ?? "";
  return (
    <>
      <pre class="tool-io tool-command" tabIndex={0}>
        <span class="prompt" aria-hidden="true">$ </span>
        {command}
      </pre>
      <Output text={withoutExitLine(run?.output ?? "")} label="command output" />
    </>
  );
}

function ReadBody({ args, run }: CardProps) {
  const path = pathArg(args);
  if (!run || run.state === "running") return <p class="muted tool-wait">Reading {path}…</p>;
  if (run.state === "failed") return <pre class="tool-io tool-output" tabIndex={0}>{run.output}</pre>;
  if (!run.output) return null;
  return <CodeView code={run.output} path={path} firstLine={firstLineOf(args)} label={`contents of ${path}`} />;
}

function EditBody({ args, run }: CardProps) {
  const path = pathArg(args);
  const edits = editsOf(args);
  return (
    <>
      {edits.map((e, i) => (
        <DiffView key={i} before={e.before} after={e.after} path={path} />
      ))}
      {run?.state === "failed" && <pre class="tool-io tool-output" tabIndex={0}>{run.output}</pre>}
    </>
  );
}

function WriteBody({ args, run }: CardProps) {
  const path = pathArg(args);
  const content = str((args as { content?: unknown } | undefined)?.content) ?? "";
  return (
    <>
      <p class="tool-note">{run?.state === "done" ? "New file" : run?.state === "failed" ? "Could not write" : "Writing"} <code>{path}</code></p>
      <CodeView code={content} path={path} label={`new contents of ${path}`} />
      {run?.state === "failed" && <pre class="tool-io tool-output" tabIndex={0}>{run.output}</pre>}
    </>
  );
}

function TodoBody({ args }: CardProps) {
  const items = todoItems(args);
  if (items.length === 0) return <GenericBody id="" name="todo" args={args} run={undefined} />;
  return (
    <ul class="todo-list">
      {items.map((t, i) => (
        <li key={i} class={`todo todo-${t.status === "completed" || t.status === "done" ? "done" : t.status}`}>
          {t.text}
        </li>
      ))}
    </ul>
  );
}

/** The agent's question: options and free text while it waits, the answer once it has one. */
function QuestionBody({ id, args, run }: CardProps) {
  const view = useContext(ViewContext);
  const q = questionOf(id, args);
  const [text, setText] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  if (!q) return <GenericBody id={id} name="question" args={args} run={run} />;
  const waiting = !run || run.state === "running";
  const answer = async (value: string) => {
    if (!view || !value.trim()) return;
    if (await view.send(value.trim(), [])) setSent(value.trim());
  };
  const canAnswer = waiting && sent === null && view !== null && view.phase.value.kind === "live";
  return (
    <div class="question" role="group" aria-label="The agent asks">
      <p class="question-text">{q.question}</p>
      {canAnswer ? (
        <>
          {q.options.length > 0 && (
            <div class="question-options">
              {q.options.map((o) => (
                <button key={o} type="button" class="btn" onClick={() => void answer(o)}>
                  {o}
                </button>
              ))}
            </div>
          )}
          <form
            class="question-free"
            onSubmit={(e) => {
              e.preventDefault();
              void answer(text);
            }}
          >
            <input aria-label="Your answer" placeholder="Or write an answer…" value={text} onInput={(e) => setText(e.currentTarget.value)} />
            <button type="submit" class="btn btn-primary" disabled={!text.trim()}>
              Answer
            </button>
          </form>
        </>
      ) : sent !== null && waiting ? (
        <p class="question-answer">Answer sent: {sent}</p>
      ) : run?.output ? (
        <p class="question-answer">Answer: {run.output}</p>
      ) : waiting ? (
        <p class="muted">Waiting for an answer.</p>
      ) : null}
    </div>
  );
}

function GenericBody({ args, run }: CardProps) {
  return (
    <>
      {args !== undefined && <pre class="tool-io" tabIndex={0} aria-label="arguments">{JSON.stringify(args, null, 2)}</pre>}
      <Output text={run?.output ?? ""} label="tool output" />
    </>
  );
}
