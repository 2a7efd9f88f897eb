// Authentication through PizzaPi's JavaScript client: every namespace must refuse a client
// without valid credentials with connect_error "unauthorized", on both transports.
//
// Environment: PIZZAPI_URL.
// Result: {cases: [{namespace, credentials, transport, outcome}]}, outcome being
// {error: {message, data}} or {connected: true}.

import { Client, run } from "./lib.mjs";

// What each namespace's client sends besides credentials (the web UI always names its target).
const namespaces = {
  "/relay": {},
  "/runner": { runnerId: "0b6f5a4e-2f7c-4f7e-8d0e-1c2b3a4d5e6f", runnerSecret: "s" },
  "/viewer": { sessionId: "some-session" },
  "/terminal": { terminalId: "some-terminal" },
  "/hub": {},
};
const cookieNamespaces = new Set(["/viewer", "/terminal", "/hub"]);

run(async () => {
  const cases = [];
  for (const [nsp, extra] of Object.entries(namespaces)) {
    for (const transport of ["websocket", "browser"]) {
      const variants = [
        { credentials: "none", auth: { ...extra } },
        { credentials: "wrong apiKey", auth: { ...extra, apiKey: "pzp_not_a_real_key_0000000000000000" } },
      ];
      if (cookieNamespaces.has(nsp)) {
        variants.push({ credentials: "forged cookie", auth: { ...extra }, cookie: "pizzapi_session=forged-session-token" });
      }
      for (const v of variants) {
        const c = new Client(`${nsp} ${v.credentials} ${transport}`, nsp, { auth: v.auth, cookie: v.cookie, transport });
        cases.push({ namespace: nsp, credentials: v.credentials, transport, client: c });
      }
    }
  }
  const outcomes = await Promise.all(cases.map((c) => c.client.connectOutcome()));
  return {
    cases: cases.map((c, i) => ({ namespace: c.namespace, credentials: c.credentials, transport: c.transport, outcome: outcomes[i] })),
  };
});
