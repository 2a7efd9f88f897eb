// /relay + /viewer through PizzaPi's JavaScript client: a CLI (websocket only, API key) publishes
// a session, browser-style viewers (polling then upgrade, session cookie) watch it and use
// collab mode. The script drives the scenario and records what both sides receive; the Go test
// checks the payloads.
//
// Environment: PIZZAPI_URL, PIZZAPI_API_KEY, PIZZAPI_COOKIE, PIZZAPI_SESSION_ID.

import { CLI, Client, delta, env, isDelta, run, sleep } from "./lib.mjs";

const apiKey = env("PIZZAPI_API_KEY");
const cookie = env("PIZZAPI_COOKIE");
const sid = env("PIZZAPI_SESSION_ID");
const cwd = "/home/ada/project";
const LIVE = 20; // live events streamed to the first viewer
const MISSED = 5; // events published while no viewer is connected

const model = { provider: "anthropic", id: "claude-sonnet-4-5", name: "Claude Sonnet 4.5", reasoning: true };
const state = {
  messages: [{ role: "user", content: "fix the flaky test", timestamp: 1764234900000 }],
  model,
  thinkingLevel: "medium",
  sessionName: "js demo",
  cwd,
  availableModels: [{ ...model, contextWindow: 200000 }],
  todoList: [],
};
const heartbeat = (active) => ({
  type: "heartbeat",
  active,
  model,
  sessionName: "js demo",
  thinkingLevel: "medium",
  tokenUsage: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0, cost: 0.01 },
  cwd,
  uptime: 1000,
  ts: Date.now(),
  providerUsage: {},
  todoList: [],
  pendingQuestion: null,
});

run(async () => {
  const out = {};
  const cli = new CLI("cli", apiKey);
  await cli.connected();
  out.cliTransport = cli.transport();

  // PizzaPi's CLI registers without an acknowledgement; ours asks for one. The same socket first
  // publishes a warm-up session, then switches to the session under test.
  out.registeredPlain = await cli.register({ sessionId: `${sid}-warmup`, cwd, ephemeral: true, collabMode: true });
  const withAck = await cli.registerWithAck({ sessionId: sid, cwd, ephemeral: true, collabMode: true, sessionName: null });
  out.registerAck = withAck.ack;
  out.registered = withAck.registered;

  // The real CLI answers a viewer's greeting with its capabilities and a session_active snapshot.
  cli.on("connected", () => {
    cli.send({ type: "capabilities", models: [model], commands: [{ name: "compact", description: "Compact the context" }] });
    cli.send({ type: "session_active", state });
  });

  cli.send({ type: "session_active", state });
  cli.send(heartbeat(true));
  await cli.synced();

  // Viewer 1: browser transport, snapshot, greeting, live stream, collab commands.
  const v1 = new Client("viewer1", "/viewer", { auth: { sessionId: sid }, cookie, transport: "browser" });
  out.v1Connected = await v1.wait("connected");
  await v1.take("event", 2); // the snapshot: heartbeat and session_active, stamped lastSeq
  v1.emit("connected", {});
  out.cliGreeting = await cli.wait("connected");
  await v1.wait("event", (p) => p.event?.type === "capabilities", { what: "(capabilities after the greeting)" });
  await v1.wait("event", (p) => p.event?.type === "session_active", { what: "(session_active after the greeting)" });
  await v1.upgraded();

  for (let i = 1; i <= LIVE; i++) cli.send(delta(`live-${i}`));
  await v1.wait("event", isDelta(`live-${LIVE}`), { what: `(live-${LIVE})` });

  // Collab mode, with acknowledgements (ours) and without (PizzaPi's web UI).
  out.inputAck = await v1.ack("input", {
    text: "Please also add tests",
    attachments: [
      { attachmentId: "att-1", mediaType: "image/png", filename: "screen.png" },
      { filename: "no-id-or-url.txt" },
      { url: "data:text/plain;base64,aGk=", filename: "hi.txt" },
    ],
    client: "web",
    deliverAs: "followUp",
  });
  out.cliInput = await cli.wait("input");
  v1.emit("input", { text: "sent like PizzaPi's UI" });
  out.cliInputPlain = await cli.wait("input");
  out.modelSetAck = await v1.ack("model_set", { provider: "anthropic", modelId: "claude-opus-4-1" });
  out.cliModelSet = await cli.wait("model_set");
  out.execAck = await v1.ack("exec", { id: "c-1", command: "set_thinking_level", level: "high" });
  out.cliExec = await cli.wait("exec");
  cli.emit("exec_result", { id: "c-1", ok: true, command: "set_thinking_level", result: { thinkingLevel: "high" } });
  out.v1ExecResult = await v1.wait("exec_result");

  // Refused events get an error naming them; the sockets keep working.
  v1.emit("input", { text: 42 });
  out.v1InvalidError = await v1.wait("error", () => true, { what: "(for an invalid input)" });
  v1.emit("definitely_not_an_event", { x: 1 });
  out.v1UnknownError = await v1.wait("error", () => true, { what: "(for an unknown event)" });
  cli.emit("event", { sessionId: sid, token: cli.token, seq: -1, event: { type: "agent_start" } });
  out.cliInvalidError = await cli.wait("error", () => true, { what: "(for an invalid event)" });
  cli.emit("no_such_relay_event", {});
  out.cliUnknownError = await cli.wait("error", () => true, { what: "(for an unknown event)" });
  out.execAck2 = await v1.ack("exec", { id: "c-2", command: "abort" });
  out.cliExec2 = await cli.wait("exec");
  cli.send(delta("after-errors"));
  await v1.wait("event", isDelta("after-errors"));
  await cli.synced();
  // Viewer 1 goes away; events published meanwhile are replayed to viewer 2, which reconnects
  // with auth.lastSeq.
  const lastSeq = Math.max(...v1.all("event").map((p) => p.seq ?? 0));
  out.v1LastSeq = lastSeq;
  out.v1 = v1.report();
  v1.close();
  await sleep(50);
  for (let i = 1; i <= MISSED; i++) cli.send(delta(`missed-${i}`));
  await cli.synced();
  const v2 = new Client("viewer2", "/viewer", { auth: { sessionId: sid, lastSeq }, cookie, transport: "browser" });
  out.v2Connected = await v2.wait("connected");
  await v2.wait("event", isDelta(`missed-${MISSED}`), { what: `(missed-${MISSED})` });
  cli.send(delta("live-after-reconnect"));
  await v2.wait("event", isDelta("live-after-reconnect"));

  // resync with lastSeq replays exactly what came after it; without (PizzaPi's UI) it sends the
  // snapshot stamped with the current seq.
  out.resyncFrom = lastSeq + 2;
  v2.emit("resync", { lastSeq: lastSeq + 2 });
  await v2.wait("event", isDelta("live-after-reconnect"), { what: "(replayed by resync {lastSeq})" });
  v2.emit("resync", {});
  await v2.wait("event", (p) => p.event?.type === "session_active", { what: "(snapshot sent for resync {})" });
  cli.send(delta("after-resync"));
  await v2.wait("event", isDelta("after-resync"));

  // The CLI ends the session: the viewer is told and stays connected; the old token is refused.
  cli.end();
  out.v2Disconnected = await v2.wait("disconnected");
  out.inputAfterEndAck = await v2.ack("input", { text: "anyone there?" });
  out.v2StillConnected = v2.socket.connected;
  cli.emit("event", { sessionId: sid, token: cli.token, seq: cli.seq + 1, event: { type: "agent_start" } });
  out.cliAfterEndError = await cli.wait("error", (p) => /token/i.test(p?.message ?? ""), { what: "(Invalid token after session_end)" });
  out.v2 = v2.report();
  out.cli = cli.report();
  return out;
});
