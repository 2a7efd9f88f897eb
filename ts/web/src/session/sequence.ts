// Gap detection on the relay's per-session event numbers (`event.seq`). The snapshot the relay
// sends on connect and on a resync that history cannot serve (a heartbeat and a `session_active`)
// carries the current number; live events carry the next ones, one apart.

export interface Sequence {
  /** The highest number applied; null before `connected` named one. */
  readonly lastSeq: number | null;
  /** True between asking for a resync and the first event that closes the gap. */
  readonly resyncing: boolean;
}

/** What to do with an event: apply it, skip it, or skip it and ask for a resync. */
export type Verdict = "apply" | "skip" | "resync";

export const unsequenced: Sequence = { lastSeq: null, resyncing: false };

/** After `connected`: the snapshot that follows is stamped with lastSeq. */
export function connectedAt(lastSeq: number | undefined): Sequence {
  return { lastSeq: lastSeq ?? null, resyncing: false };
}

/**
 * Decides about the event numbered seq of the given type. Events without a number (snapshots
 * replayed from history) are applied as they are; numbers already applied are skipped, except the
 * snapshot stamped with the current number; a jump asks for a resync once, and events are skipped
 * until the missed ones arrive or a `session_active` snapshot replaces everything.
 */
export function admit(q: Sequence, seq: number | undefined, type: string): [Sequence, Verdict] {
  if (seq === undefined) return [q, "apply"];
  if (q.lastSeq === null || seq === q.lastSeq + 1) return [{ lastSeq: seq, resyncing: false }, "apply"];
  if (seq === q.lastSeq) return [q, type === "session_active" || type === "heartbeat" ? "apply" : "skip"];
  if (seq < q.lastSeq) return [q, "skip"];
  if (type === "session_active") return [{ lastSeq: seq, resyncing: false }, "apply"];
  return q.resyncing ? [q, "skip"] : [{ ...q, resyncing: true }, "resync"];
}
