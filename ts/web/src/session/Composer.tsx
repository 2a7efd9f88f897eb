import type { Attachment, DeliverAs } from "@pizzapi/protocol";
import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { Dialog } from "../ui/Dialog";
import { modelKey, modelLabel } from "../ui/format";
import { MenuButton } from "../ui/Menu";
import { builtins, commandWord, complete, itemName, parse, thinkingLevels, type ExecRequest, type MenuItem, type SlashCommand } from "./commands";
import { describeResult, type ResumeSession } from "./results";
import type { SessionState } from "./state";
import type { SessionView } from "./viewer";

type Shown = { kind: "resume"; sessions: ResumeSession[]; current: string } | { kind: "details"; title: string; body: string } | null;

/**
 * Collab mode: the message box with slash commands (a completion menu driven by the keyboard),
 * steer or follow-up while the agent works, attachments, the command buttons and the latest
 * outcome.
 */
export function Composer({ sessionId, view, state }: { sessionId: string; view: SessionView; state: SessionState }) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState<Attachment[]>([]);
  const [busy, setBusy] = useState(false);
  const [uploadError, setUploadError] = useState("");
  const [active, setActive] = useState(0);
  const [menuClosed, setMenuClosed] = useState(false);
  const [mode, setMode] = useState<DeliverAs>("steer");
  const [shown, setShown] = useState<Shown>(null);
  const [confirming, setConfirming] = useState<{ command: SlashCommand; request: ExecRequest } | null>(null);

  const word = commandWord(text);
  const items = word === null || menuClosed ? [] : complete(word, state.commands);
  const menuOpen = items.length > 0;
  const queued = view.queued.value;

  const run = async (command: SlashCommand, request: ExecRequest, confirmed = false) => {
    if (command.confirm && !confirmed) {
      setConfirming({ command, request });
      return;
    }
    setBusy(true);
    const outcome = await view.exec(request);
    setBusy(false);
    if (!outcome.ok) {
      // An agent without the command (an older one, or PizzaPi's, which may not know it) says so
      // in its own words; the code says what it means.
      const text = outcome.code === "unsupported" ? `/${command.name} is not supported by this agent.` : `/${command.name} failed: ${outcome.error}`;
      view.notify({ text, tone: "error" });
      return;
    }
    const d = describeResult(request.command, outcome.result);
    if (d.resume) {
      setShown({ kind: "resume", sessions: [...d.resume.sessions], current: d.resume.currentPath });
      return;
    }
    if (d.copy !== undefined) {
      try {
        await navigator.clipboard.writeText(d.copy);
        view.notify({ text: d.text, tone: "info" });
      } catch {
        setShown({ kind: "details", title: "The last answer", body: d.copy });
      }
      return;
    }
    view.notify({ text: d.text, tone: "info" });
    if (d.details) setShown({ kind: "details", title: `/${command.name}`, body: d.details });
  };

  const send = async () => {
    if (busy) return;
    const p = parse(text, state.commands);
    if (p.kind === "error") {
      view.notify({ text: p.message, tone: "error" });
      return;
    }
    if (p.kind === "exec") {
      setText("");
      await run(p.command, p.request);
      return;
    }
    if (!p.text) return;
    setBusy(true);
    if (await view.send(p.text, files, state.active ? mode : undefined)) {
      setText("");
      setFiles([]);
    }
    setBusy(false);
  };

  const pick = (item: MenuItem) => {
    const name = itemName(item);
    const takesArg = item.kind === "agent" || item.command.args !== "";
    if (takesArg) {
      setText(`/${name} `);
      setMenuClosed(true);
    } else if (item.kind === "builtin") {
      setText("");
      void run(item.command, item.command.parse("") as ExecRequest);
    }
  };

  const attach = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const picked = [...(input.files ?? [])];
    input.value = "";
    if (picked.length === 0) return;
    setBusy(true);
    setUploadError("");
    try {
      const { attachments } = await api.attach(sessionId, picked);
      setFiles((f) => [...f, ...attachments.map((a) => ({ attachmentId: a.attachmentId, filename: a.filename, mediaType: a.mimeType }))]);
    } catch (err) {
      setUploadError(`Upload failed: ${errorText(err)}`);
    }
    setBusy(false);
  };

  const onKey = (e: KeyboardEvent) => {
    if (menuOpen) {
      const n = items.length;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setActive((a) => (Math.min(a, n - 1) + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMenuClosed(true);
        return;
      }
      const item = items[Math.min(active, n - 1)];
      if (item && (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey))) {
        e.preventDefault();
        // Enter on a whole built-in name runs it (its argument is optional, or parse says what is
        // missing); otherwise Enter and Tab complete the highlighted command.
        if (e.key === "Enter" && builtins.some((b) => b.name === word)) void send();
        else pick(item);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const notice = uploadError ? { text: uploadError, tone: "error" } : state.notice;
  const menuId = `slash-${sessionId}`;
  const optionId = (i: number) => `${menuId}-${i}`;
  const builtin = (name: string) => builtins.find((b) => b.name === name) as SlashCommand;
  const runNamed = (name: string, arg = "") => {
    const c = builtin(name);
    const r = c.parse(arg);
    if (r instanceof Error) view.notify({ text: r.message, tone: "error" });
    else void run(c, r);
  };
  return (
    <footer class="composer">
      {notice && (
        <p class={`notice notice-${notice.tone}`} role="status">
          {notice.text}
        </p>
      )}
      {queued.length > 0 && (
        <ul class="queued" aria-label="Queued messages">
          {queued.map((q) => (
            <li key={q.id}>
              <span class={`pill ${q.deliverAs === "steer" ? "pill-busy" : "pill-idle"}`}>{q.deliverAs === "steer" ? "steer" : "follow-up"}</span> {q.text}
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && (
        <ul class="chips">
          {files.map((f, i) => (
            <li key={f.attachmentId} class="chip">
              {f.filename}
              <button type="button" class="chip-x" aria-label={`remove ${f.filename ?? "attachment"}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {menuOpen && (
        <ul class="slash-menu" id={menuId} role="listbox" aria-label="Commands">
          {items.map((it, i) => (
            <li
              key={itemName(it)}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(it);
              }}
            >
              <span class="slash-name">/{itemName(it)}</span>
              {it.kind === "builtin" && it.command.args && <span class="slash-args">{it.command.args}</span>}
              <span class="slash-desc">{it.command.description}</span>
            </li>
          ))}
        </ul>
      )}
      <div class="composer-row">
        <label class="btn btn-icon" title="Attach files">
          <input type="file" multiple hidden onChange={attach} />
          <span aria-hidden="true">+</span>
          <span class="sr-only">Attach files</span>
        </label>
        <textarea
          rows={1}
          placeholder={state.active ? "Message the agent while it works…" : "Message the agent, or / for commands…"}
          aria-label="Message"
          aria-autocomplete="list"
          aria-controls={menuOpen ? menuId : undefined}
          aria-activedescendant={menuOpen ? optionId(Math.min(active, items.length - 1)) : undefined}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setActive(0);
            setMenuClosed(false);
          }}
          onKeyDown={onKey}
        />
        <button type="button" class="btn btn-primary" disabled={busy || !text.trim()} onClick={() => void send()}>
          {state.active && !text.trim().startsWith("/") ? (mode === "steer" ? "Steer" : "Queue") : "Send"}
        </button>
      </div>
      <div class="composer-row composer-tools">
        {state.active && (
          <fieldset class="segmented">
            <legend class="sr-only">While the agent works</legend>
            <label class="radio" title="Deliver into the current run, after the current step">
              <input type="radio" name={`mode-${sessionId}`} checked={mode === "steer"} onChange={() => setMode("steer")} /> Steer
            </label>
            <label class="radio" title="Deliver when the current run finishes">
              <input type="radio" name={`mode-${sessionId}`} checked={mode === "followUp"} onChange={() => setMode("followUp")} /> Follow-up
            </label>
          </fieldset>
        )}
        <ModelPicker state={state} view={view} />
        <select
          class="thinking"
          aria-label="Thinking level"
          value={state.thinkingLevel ?? ""}
          onChange={(e) => runNamed("thinking", e.currentTarget.value)}
        >
          {!state.thinkingLevel && <option value="">thinking: ?</option>}
          {thinkingLevels.map((l) => (
            <option key={l} value={l}>
              thinking: {l}
            </option>
          ))}
        </select>
        <MenuButton
          label="Commands"
          entries={[
            { label: "New session", hint: "/new", run: () => runNamed("new") },
            { label: "Resume a session…", hint: "/resume", run: () => runNamed("resume") },
            { label: "Compact", hint: "/compact", run: () => runNamed("compact") },
            { label: "Rename…", hint: "/name", run: () => setText("/name ") },
            { label: "Cycle model", hint: "/model", run: () => runNamed("model") },
            { label: "Cycle thinking level", hint: "/thinking", run: () => runNamed("thinking") },
            { label: "Copy last answer", hint: "/copy", run: () => runNamed("copy") },
            { label: "MCP status", hint: "/mcp", run: () => runNamed("mcp") },
            { label: "Restart agent", hint: "/restart", run: () => runNamed("restart") },
            { label: "End session", hint: "/end", run: () => runNamed("end") },
          ]}
        />
        <button type="button" class={`btn ${state.active ? "btn-danger" : ""}`} onClick={() => void view.abort()}>
          Stop
        </button>
      </div>
      {shown?.kind === "resume" && (
        <Dialog title="Resume a session" onClose={() => setShown(null)} wide>
          {shown.sessions.length === 0 ? (
            <p class="muted">The agent has no previous sessions.</p>
          ) : (
            <ul class="rows resume-list">
              {shown.sessions.map((s) => (
                <li key={s.path}>
                  <button
                    type="button"
                    class="row"
                    disabled={s.path === shown.current}
                    onClick={() => {
                      setShown(null);
                      const c: SlashCommand = { ...builtin("resume"), parse: () => ({ command: "resume_session", sessionPath: s.path }) };
                      void run(c, { command: "resume_session", sessionPath: s.path });
                    }}
                  >
                    <span class="row-title">{s.name || s.firstMessage || s.id}</span>
                    <span class="muted">{s.modified}</span>
                    {s.path === shown.current && <span class="pill pill-idle">current</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </Dialog>
      )}
      {shown?.kind === "details" && (
        <Dialog title={shown.title} onClose={() => setShown(null)} wide>
          <pre class="tool-io" tabIndex={0}>{shown.body}</pre>
        </Dialog>
      )}
      {confirming && (
        <Dialog title={`/${confirming.command.name}`} onClose={() => setConfirming(null)}>
          <p>{confirming.command.confirm}</p>
          <div class="actions">
            <button
              type="button"
              class="btn btn-danger"
              onClick={() => {
                const c = confirming;
                setConfirming(null);
                void run(c.command, c.request, true);
              }}
            >
              {confirming.command.name === "end" ? "End session" : "Restart"}
            </button>
            <button type="button" class="btn" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </footer>
  );
}

function ModelPicker({ state, view }: { state: SessionState; view: SessionView }) {
  if (state.models.length === 0) return <span class="muted model">{modelLabel(state.model)}</span>;
  const current = state.model ? modelKey(state.model) : "";
  const onChange = (e: Event) => {
    const key = (e.currentTarget as HTMLSelectElement).value;
    const m = state.models.find((x) => modelKey(x) === key);
    if (m) void view.setModel(m);
  };
  return (
    <select class="model" aria-label="Model" value={current} onChange={onChange}>
      {!state.models.some((m) => modelKey(m) === current) && state.model && <option value={current}>{modelLabel(state.model)}</option>}
      {state.models.map((m) => (
        <option key={modelKey(m)} value={modelKey(m)}>
          {modelLabel(m)} ({m.provider})
        </option>
      ))}
    </select>
  );
}
