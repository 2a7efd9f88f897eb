// The connection indicator's state, driven by socket.io-client's own events: each open socket is
// tracked from its connect / disconnect / connect_error events and its Manager's reconnect_attempt
// and reconnect events, and the indicator shows the worst of them.

import { computed, signal } from "@preact/signals";
import type { Socket } from "socket.io-client";

export type LinkState = "connecting" | "online" | "reconnecting" | "offline";

export interface Link {
  readonly state: LinkState;
  /** The current reconnection attempt (from reconnect_attempt), 0 when none. */
  readonly attempt: number;
}

// A socket with any event maps: the tracker only listens to the reserved lifecycle events.
type AnySocket = Pick<Socket, "on" | "off" | "active" | "io">;

const links = signal<ReadonlyMap<AnySocket, Link>>(new Map());

const rank: Record<LinkState, number> = { online: 0, connecting: 1, reconnecting: 2, offline: 3 };

/** The worst state of all tracked sockets, or null when none is open. */
export const connection = computed<Link | null>(() => {
  let worst: Link | null = null;
  for (const l of links.value.values()) {
    if (!worst || rank[l.state] > rank[worst.state]) worst = l;
  }
  return worst;
});

function set(s: AnySocket, link: Link | null): void {
  const next = new Map(links.value);
  if (link) next.set(s, link);
  else next.delete(s);
  links.value = next;
}

/** Tracks a socket until the returned function is called. */
export function track(s: AnySocket): () => void {
  const onConnect = () => set(s, { state: "online", attempt: 0 });
  // A socket that will not retry (closed by us or by the server) is offline; one that will, reconnects.
  const onDown = () => set(s, { state: s.active ? "reconnecting" : "offline", attempt: 0 });
  const onAttempt = (attempt: number) => set(s, { state: "reconnecting", attempt });
  s.on("connect", onConnect);
  s.on("disconnect", onDown);
  s.on("connect_error", onDown);
  s.io.on("reconnect_attempt", onAttempt);
  s.io.on("reconnect", onConnect);
  set(s, { state: "connecting", attempt: 0 });
  return () => {
    s.off("connect", onConnect);
    s.off("disconnect", onDown);
    s.off("connect_error", onDown);
    s.io.off("reconnect_attempt", onAttempt);
    s.io.off("reconnect", onConnect);
    set(s, null);
  };
}

/** The indicator's words for a link. */
export function describe(l: Link | null): string {
  switch (l?.state) {
    case undefined:
    case "online":
      return "Connected";
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return l.attempt > 0 ? `Reconnecting (attempt ${l.attempt})…` : "Reconnecting…";
    case "offline":
      return "Offline";
  }
}
