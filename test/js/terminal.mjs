// /terminal through PizzaPi's JavaScript client: a browser-style terminal (polling then upgrade,
// session cookie) attaches to a terminal of the runner that runner.mjs imitates, starts its PTY
// with the first resize, types, resizes again and exits the shell.
//
// Environment: PIZZAPI_URL, PIZZAPI_COOKIE, PIZZAPI_TERMINAL_ID.

import { Client, b64, env, run, unb64 } from "./lib.mjs";

const cookie = env("PIZZAPI_COOKIE");
const terminalId = env("PIZZAPI_TERMINAL_ID");

run(async () => {
  const out = {};
  const t = new Client("terminal", "/terminal", { auth: { terminalId }, cookie, transport: "browser" });
  out.connected = await t.wait("terminal_connected");
  // The web UI answers terminal_connected with its fitted size: that starts the PTY.
  t.emit("terminal_resize", { terminalId, cols: 120, rows: 32 });
  out.ready = await t.wait("terminal_ready");
  out.prompt = await t.wait("terminal_data");
  await t.upgraded();
  t.emit("terminal_input", { terminalId, data: b64("ls -la\r") });
  out.echo = await t.wait("terminal_data", (p) => unb64(p.data).startsWith("echo:"), { what: "(echo of the input)" });
  t.emit("terminal_resize", { terminalId, cols: 100, rows: 30 });
  t.emit("terminal_input", { terminalId, data: b64("exit\r") });
  out.exit = await t.wait("terminal_exit");
  out.terminal = t.report();

  // A terminal that does not exist is refused after authentication, with the socket closed.
  const missing = new Client("missing", "/terminal", { auth: { terminalId: "no-such-terminal" }, cookie, transport: "browser" });
  out.missingError = await missing.wait("terminal_error");
  out.missingDisconnect = await missing.wait("$disconnect");
  return out;
});
