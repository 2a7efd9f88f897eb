// Dialogs of the agent's extensions (pi's extension UI protocol): an `extension_ui_request` with
// a dialog method opens one, the `extension_ui_response` share publishes when it sent an answer
// (a viewer's, or the cancellation after its timeout) closes it.

import { isObj, str } from "../read";

/** One extension dialog waiting for an answer. */
export interface Dialog {
  readonly id: string;
  readonly method: "select" | "confirm" | "input" | "editor";
  readonly title: string;
  /** confirm: the text under the title. */
  readonly message: string | null;
  /** select: the choices. */
  readonly options: readonly string[];
  /** input: the hint; editor: the text to start from. */
  readonly text: string | null;
}

const methods = new Set(["select", "confirm", "input", "editor"]);

/** Dialogs after an agent event (the same array when the event is not about dialogs). */
export function applyDialogEvent(dialogs: readonly Dialog[], e: Readonly<Record<string, unknown>>): readonly Dialog[] {
  const id = str(e["id"]);
  if (!id) return dialogs;
  if (e["type"] === "extension_ui_response") return dialogs.filter((d) => d.id !== id);
  const method = str(e["method"]);
  if (e["type"] !== "extension_ui_request" || !method || !methods.has(method) || dialogs.some((d) => d.id === id)) return dialogs;
  const options = Array.isArray(e["options"]) ? e["options"].map((o) => (isObj(o) ? (str(o["label"]) ?? "") : String(o))).filter((o) => o !== "") : [];
  return [
    ...dialogs,
    {
      id,
      method: method as Dialog["method"],
      title: str(e["title"]) ?? "",
      message: str(e["message"]) ?? null,
      options,
      text: str(e["placeholder"]) ?? str(e["prefill"]) ?? null,
    },
  ];
}
