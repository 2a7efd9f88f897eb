import { useEffect, useState } from "preact/hooks";
import { LiveSessionList } from "../pages/SessionsPage";
import { liveSessions } from "../sessions";
import { wide } from "../ui/media";
import { FileExplorer } from "../workspace/Files";
import { GitPanel } from "../workspace/Git";
import { TerminalDock } from "../workspace/Terminals";
import { Composer } from "./Composer";
import { ViewContext } from "./context";
import { Dialogs } from "./Dialogs";
import { PhaseBanner, SessionHeader } from "./SessionHeader";
import { Todos } from "./Todos";
import { Transcript } from "./Transcript";
import { UsageBar } from "./Usage";
import { openSession } from "./viewer";

type Panel = "files" | "git" | "terminal";
const panelLabels: Record<Panel, string> = { files: "Files", git: "Git", terminal: "Terminal" };

/** /session/:id, the share URL: one session, live or replayed, with its workspace beside it. */
export function SessionPage({ sessionId }: { sessionId: string }) {
  const [view] = useState(() => openSession(sessionId));
  const [panel, setPanel] = useState<Panel | null>(null);
  useEffect(() => () => view.close(), [view]);
  const state = view.state.value;
  const phase = view.phase.value;
  const info = liveSessions.value.find((s) => s.sessionId === sessionId);
  const registered = info !== undefined;
  useEffect(() => {
    if (phase.kind === "missing" && registered) view.reopen();
  }, [phase.kind, registered, view]);
  const runnerId = info?.runnerId ?? null;
  const cwd = state.cwd ?? info?.cwd ?? "";
  const panels: Panel[] = runnerId ? ["files", "git", "terminal"] : [];
  const docked = panel !== null && runnerId !== null;
  return (
    <ViewContext.Provider value={view}>
      <div class={`session-page${docked ? " with-panel" : ""}`}>
        <aside class="sidebar" aria-label="Sessions">
          <LiveSessionList current={sessionId} />
        </aside>
        <section class="session" aria-label="Session">
          <SessionHeader sessionId={sessionId} state={state} phase={phase}>
            {panels.length > 0 && (
              <div class="panel-toggles" role="group" aria-label="Workspace">
                {panels.map((p) => (
                  <button key={p} type="button" class="btn btn-small" aria-pressed={panel === p} onClick={() => setPanel(panel === p ? null : p)}>
                    {panelLabels[p]}
                  </button>
                ))}
              </div>
            )}
          </SessionHeader>
          <UsageBar state={state} heartbeatAt={view.heartbeatAt.value} live={phase.kind === "live"} />
          <PhaseBanner phase={phase} />
          <Todos todos={state.todos} />
          <Transcript sessionId={sessionId} state={state} />
          {phase.kind === "live" && <Dialogs view={view} state={state} />}
          {phase.kind === "live" && <Composer sessionId={sessionId} view={view} state={state} />}
        </section>
        {docked && runnerId && panel && (
          <aside class={`workspace-panel${wide.value ? "" : " full-page"}`} aria-label={panelLabels[panel]}>
            <div class="panel-head">
              <h2>{panelLabels[panel]}</h2>
              <button type="button" class="btn btn-quiet btn-icon" aria-label={`Close ${panelLabels[panel]}`} onClick={() => setPanel(null)}>
                ×
              </button>
            </div>
            <div class="panel-body">
              {panel === "files" && <FileExplorer runnerId={runnerId} root={cwd} />}
              {panel === "git" && <GitPanel runnerId={runnerId} cwd={cwd} />}
              {panel === "terminal" && <TerminalDock sessionId={sessionId} runnerId={runnerId} cwd={cwd} />}
            </div>
          </aside>
        )}
      </div>
    </ViewContext.Provider>
  );
}
