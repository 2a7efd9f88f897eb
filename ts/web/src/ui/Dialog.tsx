import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * A modal dialog on the native <dialog>: the browser keeps focus inside it, Escape closes it and
 * focus returns to where it was. onClose runs however it closes.
 */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} class={`dialog${wide ? " dialog-wide" : ""}`} aria-label={title} onClose={onClose} onCancel={onClose}>
      <header class="dialog-head">
        <h2>{title}</h2>
        <button type="button" class="btn btn-quiet btn-icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}
