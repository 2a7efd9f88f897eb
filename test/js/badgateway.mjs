// Reconnection through a load balancer that answers 502 (nginx while the relay nodes restart):
// PizzaPi's JavaScript clients, a CLI-style socket (websocket only) and a browser-style one
// (HTTP long-polling first), start while every handshake gets a 502, and keep trying on their
// reconnection schedule until the balancer forwards again. Each names itself in the handshake
// query (client=cli, client=browser) so that the Go test can count its attempts.
//
// Environment: PIZZAPI_URL (the load balancer), PIZZAPI_API_KEY, PIZZAPI_COOKIE.
// Result: {cli, browser}: each socket's report.

import { Client, env, run } from "./lib.mjs";

const apiKey = env("PIZZAPI_API_KEY");
const cookie = env("PIZZAPI_COOKIE");
const CONNECT_MS = 15000;

run(async () => {
  const cli = new Client("cli", "/hub", { auth: { apiKey }, transport: "websocket", reconnection: true, query: { client: "cli" } });
  const browser = new Client("browser", "/hub", { cookie, transport: "browser", reconnection: true, query: { client: "browser" } });
  await Promise.all([
    cli.wait("$connect", () => true, { timeout: CONNECT_MS }),
    browser.wait("$connect", () => true, { timeout: CONNECT_MS }),
  ]);
  return { cli: cli.report(), browser: browser.report() };
});
