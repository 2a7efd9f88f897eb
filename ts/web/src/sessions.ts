// The live session list from /hub: the whole list on connect, then additions, removals and status
// changes. The reducers are pure (test/sessions.test.ts); followHub keeps liveSessions current.

import type { hub, SessionInfo } from "@pizzapi/protocol";
import { signal } from "@preact/signals";
import { loadUser } from "./auth";
import { connectErrorCode } from "./errors";
import { connectHub } from "./sockets";

export type SessionList = readonly SessionInfo[];

export function added(list: SessionList, s: SessionInfo): SessionList {
  return [...removed(list, s.sessionId), s];
}

export function removed(list: SessionList, sessionId: string): SessionList {
  return list.filter((s) => s.sessionId !== sessionId);
}

/** A status change; the optional runner and viewer fields keep their values when absent. */
export function status(list: SessionList, p: hub.SessionStatus): SessionList {
  return list.map((s) => {
    if (s.sessionId !== p.sessionId) return s;
    const next: SessionInfo = {
      ...s,
      isActive: p.isActive,
      lastHeartbeatAt: p.lastHeartbeatAt,
      sessionName: p.sessionName,
      model: p.model,
    };
    if (p.runnerId !== undefined) next.runnerId = p.runnerId;
    if (p.runnerName !== undefined) next.runnerName = p.runnerName;
    if (p.viewerCount !== undefined) next.viewerCount = p.viewerCount;
    return next;
  });
}

/** Newest first. */
export function byStart(list: SessionList): SessionList {
  return [...list].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Sessions grouped by the runner that started them (null: shared from a terminal), runners by name. */
export interface RunnerGroup {
  readonly runnerId: string | null;
  readonly name: string;
  readonly sessions: SessionList;
}

/** Whether a session matches a search: every word in its name, folder, model or runner. */
export function matches(s: SessionInfo, query: string): boolean {
  const hay = [s.sessionName ?? "", s.cwd, s.model?.name ?? "", s.model?.id ?? "", s.runnerName ?? "", s.userName ?? ""].join(" ").toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

/** The sessions matching query, newest first, grouped by runner (runners by name, then the rest). */
export function groupByRunner(list: SessionList, query = ""): RunnerGroup[] {
  const groups = new Map<string | null, SessionInfo[]>();
  for (const s of byStart(list)) {
    if (!matches(s, query)) continue;
    const key = s.runnerId ?? null;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const out = [...groups].map(([runnerId, sessions]): RunnerGroup => ({
    runnerId,
    name: runnerId === null ? "Not on a runner" : (sessions[0]?.runnerName ?? runnerId),
    sessions,
  }));
  return out.sort((a, b) => (a.runnerId === null ? 1 : b.runnerId === null ? -1 : a.name.localeCompare(b.name)));
}

export const liveSessions = signal<SessionList>([]);
/** Bumped when a session ends, so that the list of ended sessions is fetched again. */
export const endedVersion = signal(0);

/** Follows /hub until the returned function is called. */
export function followHub(): () => void {
  const { socket, close } = connectHub();
  socket.on("sessions", (p) => {
    liveSessions.value = p.sessions;
  });
  socket.on("session_added", (s) => {
    liveSessions.value = added(liveSessions.value, s);
  });
  socket.on("session_removed", ({ sessionId }) => {
    liveSessions.value = removed(liveSessions.value, sessionId);
    endedVersion.value++;
  });
  socket.on("session_status", (p) => {
    liveSessions.value = status(liveSessions.value, p);
  });
  // A refused handshake means the browser session is gone (expired, or signed out elsewhere).
  socket.on("connect_error", (e) => {
    if (connectErrorCode(e) === "unauthorized") void loadUser();
  });
  return () => {
    close();
    liveSessions.value = [];
  };
}
