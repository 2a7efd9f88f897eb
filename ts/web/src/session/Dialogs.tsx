// The agent's extension dialogs (select, confirm, input, editor), answered from the browser with
// the `extension_ui_response` command. AskUserQuestion's own input dialog is not shown here: its
// question card in the transcript answers it.

import type { commands } from "@pizzapi/protocol";
import { useState } from "preact/hooks";
import type { Dialog } from "./dialogs";
import type { SessionState } from "./state";
import type { SessionView } from "./viewer";

/** The dialogs waiting for an answer, above the composer. */
export function Dialogs({ view, state }: { view: SessionView; state: SessionState }) {
  const question = state.pendingQuestion?.question.trim();
  const shown = state.dialogs.filter((d) => !(d.method === "input" && d.title === question));
  if (shown.length === 0) return null;
  return (
    <div class="dialogs">
      {shown.map((d) => (
        <DialogCard key={d.id} view={view} dialog={d} />
      ))}
    </div>
  );
}

function DialogCard({ view, dialog }: { view: SessionView; dialog: Dialog }) {
  const [text, setText] = useState(dialog.method === "editor" ? (dialog.text ?? "") : "");
  const [busy, setBusy] = useState(false);
  const answer = async (params: Omit<commands.ExtensionUIResponseParams, "requestId">) => {
    setBusy(true);
    const r = await view.exec({ command: "extension_ui_response", requestId: dialog.id, ...params });
    setBusy(false);
    if (!r.ok) view.notify({ text: `Could not answer: ${r.error}`, tone: "error" });
  };
  return (
    <div class="question" role="group" aria-label="The agent's extension asks">
      <p class="question-text">{dialog.title}</p>
      {dialog.message && <p>{dialog.message}</p>}
      <div class="question-options">
        {dialog.method === "select" &&
          dialog.options.map((o) => (
            <button key={o} type="button" class="btn" disabled={busy} onClick={() => void answer({ value: o })}>
              {o}
            </button>
          ))}
        {dialog.method === "confirm" && (
          <>
            <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void answer({ confirmed: true })}>
              Yes
            </button>
            <button type="button" class="btn" disabled={busy} onClick={() => void answer({ confirmed: false })}>
              No
            </button>
          </>
        )}
      </div>
      {(dialog.method === "input" || dialog.method === "editor") && (
        <form
          class="question-free"
          onSubmit={(e) => {
            e.preventDefault();
            void answer({ value: text });
          }}
        >
          {dialog.method === "input" ? (
            <input aria-label="Your answer" placeholder={dialog.text ?? ""} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          ) : (
            <textarea aria-label="Your text" rows={6} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          )}
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Send
          </button>
        </form>
      )}
      <button type="button" class="btn btn-quiet btn-small" disabled={busy} onClick={() => void answer({ cancelled: true })}>
        Dismiss
      </button>
    </div>
  );
}
