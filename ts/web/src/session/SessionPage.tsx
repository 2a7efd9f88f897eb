import { useEffect, useState } from "preact/hooks";
import { LiveSessionList } from "../pages/SessionsPage";
import { liveSessions } from "../sessions";
import { Composer } from "./Composer";
import { PhaseBanner, SessionHeader } from "./SessionHeader";
import { Todos } from "./Todos";
import { Transcript } from "./Transcript";
import { openSession } from "./viewer";

/** /session/:id, the share URL: one session, live or replayed. */
export function SessionPage({ sessionId }: { sessionId: string }) {
  const [view] = useState(() => openSession(sessionId));
  useEffect(() => () => view.close(), [view]);
  const state = view.state.value;
  const phase = view.phase.value;
  const registered = liveSessions.value.some((s) => s.sessionId === sessionId);
  useEffect(() => {
    if (phase.kind === "missing" && registered) view.reopen();
  }, [phase.kind, registered, view]);
  return (
    <div class="session-page">
      <aside class="sidebar">
        <LiveSessionList current={sessionId} />
      </aside>
      <section class="session">
        <SessionHeader sessionId={sessionId} state={state} phase={phase} />
        <PhaseBanner phase={phase} />
        <Todos todos={state.todos} />
        <Transcript state={state} />
        {phase.kind === "live" && <Composer sessionId={sessionId} view={view} state={state} />}
      </section>
    </div>
  );
}
