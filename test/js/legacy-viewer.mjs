// A new browser viewer (socket.io-client, polling then upgrade, session cookie) watching a session
// that an old raw-WebSocket CLI publishes (cmd/pizzapi/legacy_test.go drives the old CLI). The
// viewer greets the CLI, waits for the CLI's "from the old CLI" text, types into the session and
// runs a command, then waits for the session to end. It records everything it receives; the Go
// test checks the numbering and payloads.
//
// Environment: PIZZAPI_URL, PIZZAPI_COOKIE, PIZZAPI_SESSION_ID.

import { Client, env, run } from "./lib.mjs";

const cookie = env("PIZZAPI_COOKIE");
const sid = env("PIZZAPI_SESSION_ID");

run(async () => {
  const v = new Client("viewer", "/viewer", { auth: { sessionId: sid }, cookie, transport: "browser" });
  await v.connected();
  const hello = await v.wait("connected");
  await v.wait("event", (p) => p.event?.type === "session_active", { what: "(the snapshot)" });
  v.emit("connected", {});
  await v.wait("event", (p) => p.event?.assistantMessageEvent?.delta === "from the old CLI", { what: "(the old CLI's text)" });
  const inputAck = await v.ack("input", { text: "from the new viewer", attachments: [], client: "web" });
  const execAck = await v.ack("exec", { id: "x-1", command: "abort" });
  const result = await v.wait("exec_result", (p) => p.id === "x-1");
  const ended = await v.wait("disconnected", () => true, { timeout: 15000 });
  return { hello, inputAck, execAck, result, ended, events: v.all("event") };
});
