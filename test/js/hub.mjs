// /hub through PizzaPi's JavaScript client: a browser-style hub socket (polling then upgrade,
// session cookie) follows the user's sessions while JS CLIs register, heartbeat and end them.
//
// Environment: PIZZAPI_URL, PIZZAPI_API_KEY, PIZZAPI_OTHER_API_KEY (another user),
// PIZZAPI_COOKIE, PIZZAPI_SESSION_ID.

import { CLI, Client, env, run } from "./lib.mjs";

const apiKey = env("PIZZAPI_API_KEY");
const otherKey = env("PIZZAPI_OTHER_API_KEY");
const cookie = env("PIZZAPI_COOKIE");
const sid = env("PIZZAPI_SESSION_ID");
const cwd = "/home/ada/hub";
const model = { provider: "anthropic", id: "claude-sonnet-4-5", name: "Claude Sonnet 4.5" };

run(async () => {
  const out = {};
  // Sessions that exist before the hub connects: one of this user, one of another user.
  const existing = new CLI("existing", apiKey);
  const other = new CLI("other", otherKey);
  await Promise.all([existing.connected(), other.connected()]);
  await existing.register({ sessionId: `${sid}-existing`, cwd: "/home/ada/project", ephemeral: true, collabMode: true });
  await other.register({ sessionId: `${sid}-other-user`, cwd: "/home/bob/project", ephemeral: true, collabMode: true });

  const hub = new Client("hub", "/hub", { cookie, transport: "browser" });
  out.sessions = await hub.wait("sessions");
  await hub.upgraded();

  const cli = new CLI("cli", apiKey);
  await cli.connected();
  out.registered = await cli.register({ sessionId: sid, cwd, ephemeral: true, collabMode: true });
  out.added = await hub.wait("session_added", (p) => p.sessionId === sid);

  cli.send({ type: "heartbeat", active: true, model, sessionName: "hub demo", ts: Date.now() });
  out.statusActive = await hub.wait("session_status", (p) => p.sessionId === sid && p.isActive === true, { what: "(active)" });
  cli.send({ type: "heartbeat", active: false, model, sessionName: "hub demo", ts: Date.now() });
  out.statusIdle = await hub.wait("session_status", (p) => p.sessionId === sid && p.isActive === false, { what: "(idle)" });
  cli.send({ type: "session_active", state: { messages: [], sessionName: "renamed" } });
  out.statusRenamed = await hub.wait("session_status", (p) => p.sessionId === sid && p.sessionName === "renamed", { what: "(renamed)" });
  await cli.synced();

  cli.end();
  out.removed = await hub.wait("session_removed", (p) => p.sessionId === sid);

  // The other user's session changes; this hub must not hear of it.
  other.send({ type: "heartbeat", active: true, model, sessionName: "bob's", ts: Date.now() });
  await other.synced();
  other.end();

  // A CLI that closes its socket on purpose (socket.disconnect()) ends its session too. Known
  // server bug: the close can overtake the DISCONNECT packet, so this is only recorded here.
  const cli2 = new CLI("cli2", apiKey);
  await cli2.connected();
  await cli2.register({ sessionId: `${sid}-closed`, cwd, sessionName: "short-lived" });
  out.added2 = await hub.wait("session_added", (p) => p.sessionId === `${sid}-closed`);
  cli2.close();
  out.removed2 = await hub.maybe("session_removed", (p) => p.sessionId === `${sid}-closed`, 2000);

  out.hub = hub.report();
  return out;
});
