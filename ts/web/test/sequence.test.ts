import { describe, expect, it } from "vitest";
import { admit, connectedAt, unsequenced, type Sequence, type Verdict } from "../src/session/sequence";

/** Feeds [seq, type] pairs and returns the verdicts and the final sequence. */
function feed(q: Sequence, events: [number | undefined, string][]): [Verdict[], Sequence] {
  const verdicts: Verdict[] = [];
  for (const [seq, type] of events) {
    const [next, v] = admit(q, seq, type);
    q = next;
    verdicts.push(v);
  }
  return [verdicts, q];
}

describe("admit", () => {
  it("applies the snapshot stamped with connected.lastSeq, then consecutive live events", () => {
    const [v, q] = feed(connectedAt(5), [
      [5, "heartbeat"],
      [5, "session_active"],
      [6, "message_update"],
      [7, "message_update"],
    ]);
    expect(v).toEqual(["apply", "apply", "apply", "apply"]);
    expect(q).toEqual({ lastSeq: 7, resyncing: false });
  });

  it("skips events it already applied", () => {
    const [v] = feed(connectedAt(5), [
      [6, "message_update"],
      [6, "message_update"],
      [5, "message_update"],
      [3, "session_active"],
    ]);
    expect(v).toEqual(["apply", "skip", "skip", "skip"]);
  });

  it("asks for a resync once on a gap and waits for the missed events", () => {
    const [v, q] = feed(connectedAt(5), [
      [8, "message_update"],
      [9, "heartbeat"],
      [6, "message_update"],
      [7, "message_update"],
      [8, "message_update"],
      [9, "heartbeat"],
      [10, "message_end"],
    ]);
    expect(v).toEqual(["resync", "skip", "apply", "apply", "apply", "apply", "apply"]);
    expect(q).toEqual({ lastSeq: 10, resyncing: false });
  });

  it("lets a newer session_active snapshot close a gap the history could not fill", () => {
    const [v, q] = feed(connectedAt(5), [
      [40, "message_update"],
      [41, "heartbeat"],
      [41, "session_active"],
      [42, "message_update"],
    ]);
    expect(v).toEqual(["resync", "skip", "apply", "apply"]);
    expect(q).toEqual({ lastSeq: 42, resyncing: false });
  });

  it("asks again for a gap after the previous one closed", () => {
    const [v] = feed(connectedAt(1), [
      [3, "message_update"],
      [2, "message_update"],
      [3, "message_update"],
      [6, "message_update"],
    ]);
    expect(v).toEqual(["resync", "apply", "apply", "resync"]);
  });

  it("applies unnumbered snapshots and starts counting from the first number without connected", () => {
    expect(admit(connectedAt(5), undefined, "session_active")).toEqual([connectedAt(5), "apply"]);
    expect(admit(unsequenced, 12, "message_update")).toEqual([{ lastSeq: 12, resyncing: false }, "apply"]);
    expect(connectedAt(undefined)).toEqual(unsequenced);
  });
});
