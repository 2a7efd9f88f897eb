import type { ComponentChildren } from "preact";
import { liveSessions } from "../sessions";
import { modelLabel, sessionTitle } from "../ui/format";
import type { SessionState } from "./state";
import type { Phase } from "./viewer";

function badge(phase: Phase, active: boolean): [string, string] {
  switch (phase.kind) {
    case "live":
      return active ? ["Working", "busy"] : ["Idle", "idle"];
    case "replay":
      return ["Replay", "idle"];
    case "ended":
      return ["Ended", "idle"];
    case "connecting":
      return ["Connecting", "idle"];
    case "missing":
      return ["Not live", "idle"];
    case "failed":
      return ["Unavailable", "bad"];
  }
}

export function SessionHeader({ sessionId, state, phase, children }: { sessionId: string; state: SessionState; phase: Phase; children?: ComponentChildren }) {
  const info = liveSessions.value.find((s) => s.sessionId === sessionId);
  const cwd = state.cwd ?? info?.cwd ?? "";
  const title = sessionTitle(state.sessionName ?? info?.sessionName, cwd);
  const [label, tone] = badge(phase, state.active);
  return (
    <header class="session-header">
      <div class="session-title">
        <h1>{title}</h1>
        <span class={`pill pill-${tone}`}>{label}</span>
        {children}
      </div>
      <div class="session-meta">
        {cwd && <code class="cwd">{cwd}</code>}
        {state.model && (
          <span>
            {modelLabel(state.model)}
            {state.thinkingLevel && ` · thinking ${state.thinkingLevel}`}
          </span>
        )}
        {info?.runnerName && <span>on {info.runnerName}</span>}
        {info?.viewerCount !== undefined && (
          <span title="people watching">
            {info.viewerCount} {info.viewerCount === 1 ? "viewer" : "viewers"}
          </span>
        )}
      </div>
    </header>
  );
}

export function PhaseBanner({ phase }: { phase: Phase }) {
  switch (phase.kind) {
    case "replay":
      return <p class="banner">This session has ended; you are looking at its last snapshot (replay only).</p>;
    case "ended":
      return <p class="banner">{phase.reason.replace(/\.?$/, ".")} Its conversation stays on this page.</p>;
    case "missing":
      return <p class="banner">This session is not live and nothing of it is stored. If it is starting, it opens here as soon as it registers.</p>;
    case "failed":
      return <p class="banner banner-bad">{phase.message}</p>;
    default:
      return null;
  }
}
