// Several namespaces on one connection, as a browser tab's sockets share it: the session cookie
// authenticates every namespace's CONNECT, not only the first one's (the relay keeps only the
// cookie of the handshake request once the first namespace has connected).
//
// Environment: PIZZAPI_URL, PIZZAPI_COOKIE, PIZZAPI_SESSION_ID (a live session of the cookie's
// user).
// Result: {cases: [{transport, sessions, connected, terminal, terminalError, sameConnection,
// upgraded}]}: /hub's first "sessions", then /viewer's "connected", /terminal's connect outcome
// and its "terminal_error" for a terminal that does not exist (which only an authenticated
// socket gets); sameConnection says all three used one Engine.IO connection.

import { Client, connection, env, run } from "./lib.mjs";

const cookie = env("PIZZAPI_COOKIE");
const sessionId = env("PIZZAPI_SESSION_ID");

run(async () => {
  const cases = [];
  for (const transport of ["websocket", "browser"]) {
    const m = connection({ cookie, transport });
    const hub = new Client(`hub ${transport}`, "/hub", { manager: m });
    const sessions = await hub.wait("sessions");
    const viewer = new Client(`viewer ${transport}`, "/viewer", { manager: m, auth: { sessionId } });
    const connected = await viewer.wait("connected");
    if (transport === "browser") await viewer.upgraded();
    const terminal = new Client(`terminal ${transport}`, "/terminal", { manager: m, auth: { terminalId: "t-none" } });
    const outcome = await terminal.connectOutcome();
    const terminalError = outcome.connected ? await terminal.wait("terminal_error") : null;
    const ids = [hub, viewer, terminal].map((c) => c.socket.io.engine?.id);
    cases.push({
      transport,
      sessions,
      connected,
      terminal: outcome,
      terminalError,
      sameConnection: ids.every((id) => id && id === ids[0]),
      upgraded: viewer.transport(),
    });
    for (const c of [hub, viewer, terminal]) c.close();
  }
  return { cases };
});
