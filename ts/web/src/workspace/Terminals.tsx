import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { TerminalView } from "../pages/TerminalPage";

interface Tab {
  readonly terminalId: string;
  readonly label: string;
}

/** The terminals opened beside each session, kept while the app runs. */
const tabsBySession = signal<Readonly<Record<string, readonly Tab[]>>>({});

/** Shell terminals on the session's runner as tabs: open one in the session's folder, switch, close. */
export function TerminalDock({ sessionId, runnerId, cwd }: { sessionId: string; runnerId: string; cwd: string }) {
  const tabs = tabsBySession.value[sessionId] ?? [];
  const [current, setCurrent] = useState<string | null>(tabs[0]?.terminalId ?? null);
  const [error, setError] = useState("");
  const setTabs = (next: readonly Tab[]) => {
    tabsBySession.value = { ...tabsBySession.value, [sessionId]: next };
  };
  const add = async () => {
    setError("");
    try {
      const r = await api.terminal(cwd ? { runnerId, cwd } : { runnerId });
      setTabs([...tabs, { terminalId: r.terminalId, label: `Shell ${tabs.length + 1}` }]);
      setCurrent(r.terminalId);
    } catch (e) {
      setError(errorText(e));
    }
  };
  const close = (id: string) => {
    const rest = tabs.filter((t) => t.terminalId !== id);
    setTabs(rest);
    if (current === id) setCurrent(rest[0]?.terminalId ?? null);
  };
  const shown = tabs.find((t) => t.terminalId === current) ?? tabs[0];
  return (
    <div class="terminal-dock">
      <div class="term-tabs" role="tablist" aria-label="Terminals">
        {tabs.map((t) => (
          <span key={t.terminalId} class="term-tab">
            <button type="button" role="tab" aria-selected={t === shown} onClick={() => setCurrent(t.terminalId)}>
              {t.label}
            </button>
            <button type="button" class="chip-x" aria-label={`Close ${t.label}`} onClick={() => close(t.terminalId)}>
              ×
            </button>
          </span>
        ))}
        <button type="button" class="btn btn-small" onClick={() => void add()}>
          + Terminal
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      {tabs.length === 0 && !error && <p class="muted">Open a shell on the runner, in {cwd || "its default folder"}.</p>}
      {tabs.map((t) => (
        <div key={t.terminalId} class="term-pane" hidden={t !== shown} role="tabpanel" aria-label={t.label}>
          <TerminalView terminalId={t.terminalId} />
        </div>
      ))}
    </div>
  );
}
