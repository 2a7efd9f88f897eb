import type { rest, SessionInfo } from "@pizzapi/protocol";
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { sessionPath } from "../router";
import { endedVersion, groupByRunner, liveSessions } from "../sessions";
import { ago, modelLabel, sessionTitle } from "../ui/format";
import { Link } from "../ui/Link";

/** The start page: live sessions from /hub, and ended ones that can still be replayed. */
export function SessionsPage() {
  return (
    <div class="page">
      <h1>Live sessions</h1>
      <LiveSessionList />
      <h2>Ended sessions</h2>
      <EndedSessions />
    </div>
  );
}

/** The search of the session lists, kept across pages. */
const search = signal("");

/** Live sessions grouped by runner, with a search box. */
export function LiveSessionList({ current }: { current?: string }) {
  const all = liveSessions.value;
  if (all.length === 0) {
    return (
      <p class="muted empty">
        No live sessions. Start one with <code>pizzapi share</code> or from a runner.
      </p>
    );
  }
  const groups = groupByRunner(all, search.value);
  return (
    <div class="session-list">
      <input
        type="search"
        class="search"
        aria-label="Search sessions"
        placeholder="Search sessions"
        value={search.value}
        onInput={(e) => {
          search.value = e.currentTarget.value;
        }}
      />
      {groups.length === 0 && <p class="muted">No session matches “{search.value}”.</p>}
      {groups.map((g) => (
        <section key={g.runnerId ?? ""} class="runner-group" aria-label={g.name}>
          <h3 class="group-title">
            {g.name} <span class="muted">({g.sessions.length})</span>
          </h3>
          <ul class="cards">
            {g.sessions.map((s) => (
              <li key={s.sessionId}>
                <SessionCard s={s} current={s.sessionId === current} />
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function SessionCard({ s, current }: { s: SessionInfo; current: boolean }) {
  return (
    <Link href={sessionPath(s.sessionId)} class={`card session-card${current ? " current" : ""}`} current={current}>
      <span class="card-title">
        <span class={`dot ${s.isActive ? "dot-on" : "dot-off"}`} aria-hidden="true" />
        {sessionTitle(s.sessionName, s.cwd)}
        <span class="card-state">{s.isActive ? "working" : "idle"}</span>
      </span>
      <code class="cwd">{s.cwd}</code>
      <span class="card-meta">
        {s.model && <span>{modelLabel(s.model)}</span>}
        {s.runnerName && <span>runner {s.runnerName}</span>}
        <span>
          {s.viewerCount ?? 0} {s.viewerCount === 1 ? "viewer" : "viewers"}
        </span>
        <span>started {ago(s.startedAt)}</span>
      </span>
    </Link>
  );
}

function EndedSessions() {
  const [ended, setEnded] = useState<rest.PersistedSession[] | null>(null);
  const [error, setError] = useState("");
  const version = endedVersion.value;
  useEffect(() => {
    api.sessions().then(
      (r) => setEnded(r.persistedSessions.filter((s) => s.endedAt !== null)),
      (e: unknown) => setError(errorText(e)),
    );
  }, [version]);
  if (error) return <p class="error">{error}</p>;
  if (!ended) return <p class="muted">Loading…</p>;
  if (ended.length === 0) return <p class="muted empty">No ended sessions yet.</p>;
  return (
    <ul class="rows">
      {ended.map((s) => (
        <li key={s.sessionId}>
          <Link href={sessionPath(s.sessionId)} class="row">
            <span class="row-title">{sessionTitle(null, s.cwd)}</span>
            <code class="cwd">{s.cwd}</code>
            <span class="muted">ended {ago(s.endedAt ?? s.lastActiveAt)}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
