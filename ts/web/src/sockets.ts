// Typed Socket.IO connections to the relay, same origin, authenticated by the session cookie. Each
// socket has its own connection (forceNew), so that the handshake auth of one session or terminal
// never leaks into another, and is tracked by the connection indicator until it is closed.
// WebSocket comes first; HTTP long-polling is the fallback where WebSocket is blocked.

import { hub, terminal, viewer } from "@pizzapi/protocol";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { track } from "./connection";

export type HubSocket = Socket<hub.ServerToClientEvents, hub.ClientToServerEvents>;
export type ViewerSocket = Socket<viewer.ServerToClientEvents, viewer.ClientToServerEvents>;
export type TerminalSocket = Socket<terminal.ServerToClientEvents, terminal.ClientToServerEvents>;

/** An open socket and how it ends. */
export interface Connection<S> {
  readonly socket: S;
  /** Disconnects and stops tracking the socket. */
  readonly close: () => void;
  /** Stops tracking a socket the relay is about to close (closing it too would race with that). */
  readonly release: () => void;
}

// The first reconnection attempt comes after 125–375 ms (socket.io's default is 0.5–1.5 s), so
// that a viewer whose relay node died is back on another node within a second.
const options = {
  forceNew: true,
  transports: ["websocket", "polling"],
  tryAllTransports: true,
  reconnectionDelay: 250,
  reconnectionDelayMax: 10_000,
} satisfies Partial<ManagerOptions & SocketOptions>;

function open<S extends Socket>(socket: S): Connection<S> {
  const untrack = track(socket);
  return {
    socket,
    close: () => {
      untrack();
      socket.disconnect();
    },
    release: untrack,
  };
}

export function connectHub(): Connection<HubSocket> {
  return open<HubSocket>(io(hub.namespace, options));
}

/** A viewer socket; auth is asked again on every reconnection so that it can name the last seq. */
export function connectViewer(auth: () => viewer.Auth): Connection<ViewerSocket> {
  return open<ViewerSocket>(io(viewer.namespace, { ...options, auth: (cb) => cb(auth()) }));
}

export function connectTerminal(terminalId: string): Connection<TerminalSocket> {
  const auth: terminal.Auth = { terminalId };
  return open<TerminalSocket>(io(terminal.namespace, { ...options, auth }));
}
