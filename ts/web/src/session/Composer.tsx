import type { Attachment } from "@pizzapi/protocol";
import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { modelKey, modelLabel } from "../ui/format";
import type { SessionState } from "./state";
import type { SessionView } from "./viewer";

/** Collab mode: input with attachments, the stop button, model switching and the latest notice. */
export function Composer({ sessionId, view, state }: { sessionId: string; view: SessionView; state: SessionState }) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState<Attachment[]>([]);
  const [busy, setBusy] = useState(false);
  const [uploadError, setUploadError] = useState("");

  const send = async () => {
    if (!text.trim() || busy) return;
    setBusy(true);
    if (await view.send(text, files)) {
      setText("");
      setFiles([]);
    }
    setBusy(false);
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
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const notice = uploadError ? { text: uploadError, tone: "error" } : state.notice;
  return (
    <footer class="composer">
      {notice && (
        <p class={`notice notice-${notice.tone}`} role="status">
          {notice.text}
        </p>
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
      <div class="composer-row">
        <label class="btn btn-icon" title="Attach files">
          <input type="file" multiple hidden onChange={attach} />
          <span aria-hidden="true">+</span>
          <span class="sr-only">Attach files</span>
        </label>
        <textarea
          rows={1}
          placeholder="Message the agent…"
          aria-label="Message"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={onKey}
        />
        <button type="button" class="btn btn-primary" disabled={busy || !text.trim()} onClick={send}>
          Send
        </button>
      </div>
      <div class="composer-row composer-tools">
        <ModelPicker state={state} view={view} />
        <button type="button" class={`btn ${state.active ? "btn-danger" : ""}`} onClick={() => void view.abort()}>
          Stop
        </button>
      </div>
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
