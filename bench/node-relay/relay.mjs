// A minimal Node socket.io 4.8 relay with the handlers `pizzapi bench` uses, as the comparison
// peer for the Go relay (same events, same payloads, same auth semantics for what the benchmark
// needs):
//
//   /relay   auth {apiKey}: accepted when it equals BENCH_API_KEY.
//            register {sessionId?, cwd, ephemeral?, collabMode?} -> registered {sessionId, token,
//            shareUrl, isEphemeral, collabMode} (also as the ack when one is requested);
//            event {token, event, seq?} -> event_ack {sessionId, seq} (cumulative) and
//            event {event, seq} to /viewer room session:<id>, seq counting from 1 per session;
//            a wrong token gets error {message: "Invalid token"}.
//   /viewer  auth {apiKey, sessionId}: connected {sessionId, lastSeq}, then joins session:<id>;
//            an unknown session gets error {message: "Session not found"} and a disconnect.
//
// Cluster mode (REDIS_URL set): the process joins the other relays on the same Redis through
// @socket.io/redis-streams-adapter (broadcasts go through one Redis stream, inter-node requests
// through Redis pub/sub). A session lives on the node its publisher registered on, which numbers
// its events; a viewer on another node finds it by asking the other nodes (serverSideEmit with
// acknowledgements) and gets the events through the adapter. Without REDIS_URL it is a single
// node with the default in-memory adapter.
//
// Environment: PORT (default 0: a free port), HOST (default 127.0.0.1), BENCH_API_KEY (default
// "bench"), REDIS_URL (redis://HOST:PORT, default unset: single node). Prints
// "listening on http://HOST:PORT" once it listens (in cluster mode, once Redis is connected);
// SIGTERM/SIGINT stop it.
import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { Server } from "socket.io";

const apiKey = process.env.BENCH_API_KEY || "bench";
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 0);
const redisUrl = process.env.REDIS_URL || "";

/** @type {import("redis").RedisClientType | null} */
let redisClient = null;
let adapter;
if (redisUrl) {
  // Imported only in cluster mode, so that the single-node relay loads nothing more than before.
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-streams-adapter");
  redisClient = createClient({ url: redisUrl, socket: { connectTimeout: 5000 } });
  redisClient.on("error", (err) => console.error("redis:", err.message));
  await redisClient.connect();
  adapter = createAdapter(redisClient);
}

const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  maxHttpBufferSize: 10e6,
  cors: { origin: true, credentials: true },
  ...(adapter ? { adapter } : {}),
});

/** @type {Map<string, {id: string, token: string, seq: number, socket: import("socket.io").Socket}>} */
const sessions = new Map();

const relay = io.of("/relay");
const viewer = io.of("/viewer");

relay.use((socket, next) => {
  if (socket.handshake.auth?.apiKey === apiKey) next();
  else next(new Error("unauthorized"));
});

relay.on("connection", (socket) => {
  let session = null;
  let acked = 0;

  socket.on("register", (p, ack) => {
    const id = (typeof p?.sessionId === "string" && p.sessionId.trim()) || randomUUID();
    const old = sessions.get(id);
    if (old) {
      viewer.to("session:" + id).emit("disconnected", { reason: "Session reconnected" });
    }
    // A session registered again on this node no longer lives on another one.
    if (redisClient) relay.serverSideEmit("bench:registered", id);
    session = { id, token: randomBytes(32).toString("hex"), seq: 0, socket };
    sessions.set(id, session);
    acked = 0;
    const reg = {
      sessionId: id,
      token: session.token,
      shareUrl: `http://${host}:${httpServer.address().port}/session/${id}`,
      isEphemeral: p?.ephemeral !== false,
      collabMode: p?.collabMode !== false,
    };
    socket.emit("registered", reg);
    if (typeof ack === "function") ack(reg);
  });

  socket.on("event", (p) => {
    if (!session || !p || p.token !== session.token) {
      socket.emit("error", { message: "Invalid token" });
      return;
    }
    if (typeof p.seq === "number" && Number.isFinite(p.seq)) {
      acked = Math.max(acked, p.seq);
      socket.emit("event_ack", { sessionId: session.id, seq: acked });
    }
    if (p.event === undefined) return;
    session.seq++;
    viewer.to("session:" + session.id).emit("event", { event: p.event, seq: session.seq });
  });

  socket.on("disconnect", () => {
    if (session && sessions.get(session.id) === session) sessions.delete(session.id);
  });
});

viewer.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (auth.apiKey === apiKey && typeof auth.sessionId === "string" && auth.sessionId) next();
  else next(new Error("unauthorized"));
});

viewer.on("connection", async (socket) => {
  const id = socket.handshake.auth.sessionId;
  const session = sessions.get(id);
  let lastSeq = session?.seq;
  if (lastSeq === undefined && redisClient) lastSeq = await remoteLastSeq(id);
  if (lastSeq === undefined || !socket.connected) {
    socket.emit("error", { message: "Session not found" });
    socket.disconnect(true);
    return;
  }
  socket.join("session:" + id);
  socket.emit("connected", { sessionId: id, lastSeq });
});

// Cluster mode: the node that holds a session answers with its last sequence number, the others
// with null.
async function remoteLastSeq(id) {
  try {
    const answers = await viewer.serverSideEmitWithAck("bench:lastSeq", id);
    return answers.find((seq) => typeof seq === "number");
  } catch {
    return undefined; // a node did not answer in time (the adapter's 5 s request timeout)
  }
}

if (redisClient) {
  viewer.on("bench:lastSeq", (id, answer) => answer(sessions.get(id)?.seq ?? null));
  relay.on("bench:registered", (id) => sessions.delete(id));
}

httpServer.listen(port, host, () => {
  const { port } = httpServer.address();
  console.log(`listening on http://${host}:${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    redisClient?.destroy();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
