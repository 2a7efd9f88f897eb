import { useEffect, useState } from "preact/hooks";
import { contextWindow, type SessionState } from "./state";

/** A heartbeat older than this (three missed ones, at one per 10 s) marks the agent as stale. */
export const staleAfterMs = 35_000;

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/** Whether the agent's heartbeat is overdue at now. */
export function isStale(heartbeatAt: number | null, now: number): boolean {
  return heartbeatAt !== null && now - heartbeatAt > staleAfterMs;
}

/** Token use, cost and context fill from the heartbeats, and a badge when they stop coming. */
export function UsageBar({ state, heartbeatAt, live }: { state: SessionState; heartbeatAt: number | null; live: boolean }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  const u = state.usage;
  const window = contextWindow(state);
  const fill = window && state.contextTokens !== null ? Math.min(1, state.contextTokens / window) : null;
  const stale = live && isStale(heartbeatAt, now);
  if (!u && fill === null && !stale) return null;
  return (
    <div class="usage" aria-label="Usage">
      {stale && heartbeatAt !== null && (
        <span class="pill pill-bad" role="status" title="The agent has not sent a heartbeat for a while: it may be hung or offline.">
          No heartbeat for {Math.round((now - heartbeatAt) / 1000)} s
        </span>
      )}
      {u && (
        <span title={`input ${u.input}, output ${u.output}, cache read ${u.cacheRead}, cache write ${u.cacheWrite}`}>
          ↑{compact.format(u.input + u.cacheRead + u.cacheWrite)} ↓{compact.format(u.output)} tokens
        </span>
      )}
      {u && <span>${u.cost.toFixed(u.cost < 1 ? 3 : 2)}</span>}
      {fill !== null && window !== null && (
        <span class="context" title={`${state.contextTokens?.toLocaleString()} of ${window.toLocaleString()} tokens`}>
          <span class="sr-only">Context</span>
          <meter min={0} max={1} low={0.6} high={0.85} optimum={0} value={fill} aria-label="Context window used" />
          {Math.round(fill * 100)}% context
        </span>
      )}
    </div>
  );
}
