import { useEffect, useRef, useState } from "preact/hooks";

export interface MenuEntry {
  readonly label: string;
  readonly hint?: string;
  readonly run: () => void;
}

/**
 * A menu button (WAI-ARIA menu pattern): Enter, Space or ArrowDown opens it on the first item,
 * arrows and Home/End move, Enter runs, Escape closes and returns focus to the button.
 */
export function MenuButton({ label, entries, class: cls }: { label: string; entries: readonly MenuEntry[]; class?: string }) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (open) (list.current?.children[active] as HTMLElement | undefined)?.focus();
  }, [open, active]);
  useEffect(() => {
    if (!open) return;
    const away = (e: MouseEvent) => {
      if (!list.current?.contains(e.target as Node) && e.target !== button.current) setOpen(false);
    };
    addEventListener("mousedown", away);
    return () => removeEventListener("mousedown", away);
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const onMenuKey = (e: KeyboardEvent) => {
    const n = entries.length;
    if (e.key === "ArrowDown") setActive((a) => (a + 1) % n);
    else if (e.key === "ArrowUp") setActive((a) => (a - 1 + n) % n);
    else if (e.key === "Home") setActive(0);
    else if (e.key === "End") setActive(n - 1);
    else if (e.key === "Escape" || e.key === "Tab") close();
    else return;
    e.preventDefault();
  };
  return (
    <span class="menu-wrap">
      <button
        type="button"
        ref={button}
        class={cls ?? "btn"}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => {
          setActive(0);
          setOpen(!open);
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setActive(0);
            setOpen(true);
          }
        }}
      >
        {label}
      </button>
      {open && (
        <ul class="menu" role="menu" aria-label={label} ref={list} onKeyDown={onMenuKey}>
          {entries.map((en, i) => (
            <li
              key={en.label}
              role="menuitem"
              tabIndex={i === active ? 0 : -1}
              onClick={() => {
                close();
                en.run();
              }}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  close();
                  en.run();
                }
              }}
            >
              <span>{en.label}</span>
              {en.hint && <span class="menu-hint">{en.hint}</span>}
            </li>
          ))}
        </ul>
      )}
    </span>
  );
}
