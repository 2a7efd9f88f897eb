// A client that sends its last events and closes its socket right away, as a CLI does when it
// exits: everything it sent before socket.disconnect() must still be processed (PizzaPi's
// Node relay handles packets in arrival order, the close last). Several sessions run at once;
// each CLI publishes a few events, ends its session and disconnects without waiting, while a
// viewer and the hub watch.
//
// Environment: PIZZAPI_URL, PIZZAPI_API_KEY, PIZZAPI_COOKIE, PIZZAPI_SESSION_ID.
// Result: {rounds: [{sessionId, sent, received, disconnected, removed}]}.

import { CLI, Client, delta, env, run } from "./lib.mjs";

const apiKey = env("PIZZAPI_API_KEY");
const cookie = env("PIZZAPI_COOKIE");
const sid = env("PIZZAPI_SESSION_ID");
const ROUNDS = 8;
const EVENTS = 5;

run(async () => {
  const hub = new Client("hub", "/hub", { cookie, transport: "websocket" });
  await hub.wait("sessions");
  const round = async (i) => {
    const id = `${sid}-${i}`;
    const cli = new CLI(`cli${i}`, apiKey);
    await cli.connected();
    await cli.register({ sessionId: id, cwd: "/home/ada/project", ephemeral: true, collabMode: true });
    const v = new Client(`viewer${i}`, "/viewer", { auth: { sessionId: id }, cookie, transport: "websocket" });
    await v.wait("connected");
    for (let k = 1; k <= EVENTS; k++) cli.send(delta(`last-${k}`));
    cli.end();
    cli.close();
    const disconnected = await v.maybe("disconnected", () => true, 2000);
    // Rounds run at once and share the hub, so look for this round's removal without consuming
    // entries other rounds wait for.
    const isMine = () => hub.all("session_removed").some((p) => p.sessionId === id);
    for (let waited = 0; !isMine() && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    return {
      sessionId: id,
      sent: EVENTS,
      received: v.all("event").length,
      disconnected: disconnected?.reason ?? null,
      removed: isMine(),
    };
  };
  const rounds = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => round(i)));
  return { rounds };
});
