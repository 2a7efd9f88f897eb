// /runner through PizzaPi's JavaScript client: imitates the runner daemon. It registers with a
// persistent runnerId/runnerSecret (websocket only, API key), checks that a second registration
// of the same id with a wrong secret is refused, then serves the relay until stdin is closed:
// new_session is answered with session_ready, new_terminal with terminal_ready and a prompt,
// terminal_input is echoed as terminal_data ("exit\r" ends the shell with terminal_exit 0).
//
// Environment: PIZZAPI_URL, PIZZAPI_API_KEY, PIZZAPI_RUNNER_ID, PIZZAPI_RUNNER_SECRET,
// PIZZAPI_RUNNER_ROOT.

import { Client, b64, env, run, stdinClosed, unb64 } from "./lib.mjs";

const apiKey = env("PIZZAPI_API_KEY");
const runnerId = env("PIZZAPI_RUNNER_ID");
const runnerSecret = env("PIZZAPI_RUNNER_SECRET");
const root = env("PIZZAPI_RUNNER_ROOT");

run(async () => {
  const out = {};
  const closed = stdinClosed();
  const r = new Client("runner", "/runner", { auth: { apiKey, runnerId, runnerSecret }, transport: "websocket" });
  await r.connected();
  out.transport = r.transport();

  r.on("new_session", (p) => r.emit("session_ready", { sessionId: p.sessionId }));
  r.on("new_terminal", (p) => {
    r.emit("terminal_ready", { terminalId: p.terminalId });
    r.emit("terminal_data", { terminalId: p.terminalId, data: b64("ada@box:~$ ") });
  });
  r.on("terminal_input", (p) => {
    const text = unb64(p.data);
    if (text === "exit\r") {
      r.emit("terminal_exit", { terminalId: p.terminalId, exitCode: 0 });
    } else {
      r.emit("terminal_data", { terminalId: p.terminalId, data: b64(`echo:${text}`) });
    }
  });

  r.emit("register_runner", {
    runnerId,
    runnerSecret,
    name: "js-runner",
    roots: [root + "/"],
    skills: [{ name: "release-notes", description: "Write release notes", filePath: "/home/ada/.pizzapi/skills/release-notes/SKILL.md" }],
  });
  out.registered = await r.wait("runner_registered");

  // Same runnerId, wrong secret: refused with an error, then disconnected by the server.
  const impostor = new Client("impostor", "/runner", { auth: { apiKey, runnerId, runnerSecret: "wrong" }, transport: "websocket" });
  await impostor.connected();
  impostor.emit("register_runner", { runnerId, runnerSecret: "0".repeat(64), name: "impostor", roots: [root] });
  out.impostorError = await impostor.wait("error");
  out.impostorDisconnect = await impostor.wait("$disconnect");
  out.impostor = impostor.report();
  out.ready = true;

  await closed;
  out.stillConnected = r.socket.connected;
  out.runner = r.report();
  return out;
});
