// Shared helpers of the JavaScript compatibility scripts. Every script connects real
// socket.io-client sockets to a relay node, records everything they receive, prints exactly one
// JSON result line on stdout and exits 0, or prints a message on stderr and exits 1. A hard
// overall timeout makes sure no script can hang.
//
// Environment (set by server/jscompat_test.go):
//   PIZZAPI_URL             base URL of the relay node, e.g. http://127.0.0.1:41234
//   PIZZAPI_JS_WAIT_MS      how long one wait may take (default 5000)
//   PIZZAPI_JS_DEADLINE_MS  hard limit for the whole script (default 20000)
//   PIZZAPI_JS_DEBUG        set to print every received event on stderr

import { io, Manager } from "socket.io-client";

const started = Date.now();
const sockets = new Set();
let finished = false;
let deadline = null;

/** Returns a required environment variable (or dflt when given). */
export function env(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === "") {
    if (dflt !== undefined) return dflt;
    fail(`missing environment variable ${name}`);
  }
  return v;
}

export const URL = env("PIZZAPI_URL").replace(/\/+$/, "");
export const WAIT_MS = Number(env("PIZZAPI_JS_WAIT_MS", "5000"));
const DEADLINE_MS = Number(env("PIZZAPI_JS_DEADLINE_MS", "20000"));
const DEBUG = !!process.env.PIZZAPI_JS_DEBUG;

deadline = setTimeout(() => fail(`hard timeout: the script did not finish within ${DEADLINE_MS} ms`), DEADLINE_MS);

function closeAll() {
  for (const c of sockets) {
    try {
      c.socket.io.reconnection(false);
      c.socket.disconnect();
    } catch {
      // already gone
    }
  }
}

/** Prints msg on stderr and exits 1. */
export function fail(msg) {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  process.stderr.write(`FAIL after ${Date.now() - started} ms: ${msg}\n`);
  closeAll();
  process.exit(1);
}

/** Prints the result as one JSON line on stdout and exits 0. */
export function done(result) {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  // Serialise first: closing the sockets adds "$disconnect" entries to their logs.
  const line = JSON.stringify({ ...result, elapsedMs: Date.now() - started }) + "\n";
  closeAll();
  process.stdout.write(line, () => process.exit(0));
}

/** Runs the script body; its resolved value is the result. */
export function run(body) {
  process.on("unhandledRejection", (e) => fail(`unhandled rejection: ${e?.stack ?? e}`));
  process.on("uncaughtException", (e) => fail(`uncaught exception: ${e?.stack ?? e}`));
  body().then(done, (e) => fail(e?.message ?? String(e)));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
export const unb64 = (s) => Buffer.from(s, "base64").toString("utf8");

/** Resolves when stdin reaches its end (the Go test closes it to move the script on). */
export function stdinClosed() {
  return new Promise((resolve) => {
    process.stdin.on("data", () => {});
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
}

const brief = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? "undefined" : s.length > 300 ? s.slice(0, 300) + "..." : s;
};

/**
 * A socket.io-client socket on one namespace that records everything it receives.
 *
 * transport "websocket" is how PizzaPi's CLI and runner connect (transports: ["websocket"]);
 * "browser" is the browser's default (HTTP long-polling, then upgrade to WebSocket) with the
 * session cookie, passed in Node through extraHeaders.
 *
 * The log holds {name, payload, args, t} entries: server events by name, and the lifecycle as
 * "$connect", "$connect_error" ({message, data}), "$disconnect" ({reason}) and "$upgrade"
 * ({transport}). wait() consumes matching entries in order, per event name.
 *
 * With manager (see connection), the socket is one of the namespaces of that connection, whose
 * options (transport, cookie) are the manager's.
 */
export class Client {
  constructor(label, nsp, { auth, cookie, transport = "websocket", reconnection = false, query, manager } = {}) {
    this.label = label;
    this.log = [];
    this.cursor = {};
    this.watchers = new Set();
    const opts = connectionOptions(
      { auth, forceNew: true, reconnection, timeout: WAIT_MS, reconnectionDelay: 100, reconnectionDelayMax: 500 },
      { transport, cookie },
    );
    if (query) opts.query = query;
    this.socket = manager ? manager.socket(nsp, { auth }) : io(URL + nsp, opts);
    sockets.add(this);
    // A trailing string after the payload is a Connection State Recovery offset (socket.io-client
    // records it and hands it to listeners too); it is not counted as an argument.
    this.socket.onAny((name, ...args) => {
      const n = args.length === 2 && typeof args[1] === "string" ? 1 : args.length;
      this.#push(name, args[0], n);
    });
    this.socket.on("connect", () => this.#push("$connect", { id: this.socket.id, transport: this.transport() }));
    this.socket.on("connect_error", (err) => this.#push("$connect_error", { message: err.message, data: err.data ?? null }));
    this.socket.on("disconnect", (reason) => this.#push("$disconnect", { reason }));
    this.socket.io.on("open", () => {
      this.initialTransport ??= this.transport();
      this.socket.io.engine.on("upgrade", (t) => this.#push("$upgrade", { transport: t.name }));
    });
  }

  /** The name of the Engine.IO transport in use now. */
  transport() {
    return this.socket.io.engine?.transport?.name ?? null;
  }

  #push(name, payload, nargs = 1) {
    const e = { name, payload, t: Date.now() - started };
    if (nargs !== 1) e.args = nargs;
    this.log.push(e);
    if (DEBUG) process.stderr.write(`[${e.t}ms] ${this.label} <- ${name} ${brief(payload)}\n`);
    for (const w of this.watchers) w();
  }

  #find(name, pred, consume) {
    for (let i = this.cursor[name] ?? 0; i < this.log.length; i++) {
      const e = this.log[i];
      if (e.name === name && pred(e.payload)) {
        if (consume) this.cursor[name] = i + 1;
        return e;
      }
    }
    return null;
  }

  /**
   * Waits for the next entry named name (after those already consumed) whose payload satisfies
   * pred, consumes it and returns its payload. what describes the wait in the failure message.
   */
  wait(name, pred = () => true, { timeout = WAIT_MS, what = "" } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.#find(name, pred, true);
        if (!e) return false;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve(e.payload);
        return true;
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        const recent = this.log.slice(-15).map((e) => `${e.name} ${brief(e.payload)}`).join("\n    ");
        reject(new Error(`${this.label}: no "${name}"${what ? " " + what : ""} within ${timeout} ms; last received:\n    ${recent || "(nothing)"}`));
      }, timeout);
      if (!check()) this.watchers.add(check);
    });
  }

  /** Like wait, but resolves to null instead of failing when nothing matches in time. */
  async maybe(name, pred = () => true, timeout = WAIT_MS) {
    try {
      return await this.wait(name, pred, { timeout });
    } catch {
      return null;
    }
  }

  /** Waits for n more entries named name and returns their payloads. */
  async take(name, n, opts) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await this.wait(name, () => true, { what: `(${i + 1} of ${n})`, ...opts }));
    return out;
  }

  /** Payloads of every entry named name received so far. */
  all(name) {
    return this.log.filter((e) => e.name === name).map((e) => e.payload);
  }

  /** Waits until the namespace is connected; fails on connect_error. */
  async connected(timeout = WAIT_MS) {
    const r = await this.connectOutcome(timeout);
    if (r.error) throw new Error(`${this.label}: connect_error ${brief(r.error)}`);
  }

  /** Waits for the outcome of connecting: {connected:true} or {error:{message,data}}. */
  connectOutcome(timeout = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.log.find((e) => e.name === "$connect" || e.name === "$connect_error");
        if (!e) return false;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve(e.name === "$connect" ? { connected: true, transport: this.transport() } : { error: e.payload });
        return true;
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`${this.label}: neither connect nor connect_error within ${timeout} ms`));
      }, timeout);
      if (!check()) this.watchers.add(check);
    });
  }

  /** Waits until the connection has been upgraded to WebSocket. */
  async upgraded(timeout = WAIT_MS) {
    if (this.transport() === "websocket") return;
    await this.wait("$upgrade", () => true, { timeout, what: "(transport upgrade to websocket)" });
  }

  emit(event, payload) {
    if (DEBUG) process.stderr.write(`[${Date.now() - started}ms] ${this.label} -> ${event} ${brief(payload)}\n`);
    this.socket.emit(event, payload);
  }

  /** Emits with an acknowledgement and returns the ack's first argument. */
  async ack(event, payload, timeout = WAIT_MS) {
    if (DEBUG) process.stderr.write(`[${Date.now() - started}ms] ${this.label} -> ${event} (ack) ${brief(payload)}\n`);
    try {
      return await this.socket.timeout(timeout).emitWithAck(event, payload);
    } catch (e) {
      throw new Error(`${this.label}: no acknowledgement of "${event}" within ${timeout} ms (${e.message})`);
    }
  }

  on(event, fn) {
    this.socket.on(event, fn);
  }

  /** Disconnects on purpose (a "client namespace disconnect" for the server). */
  close() {
    this.socket.io.reconnection(false);
    this.socket.disconnect();
    sockets.delete(this);
  }

  /** What the Go test gets: the log recorded so far and the transports used. */
  report() {
    return { log: this.log.slice(), initialTransport: this.initialTransport ?? null, transport: this.transport() };
  }
}

/**
 * One connection that several Clients share (their option manager), one namespace each, as a
 * browser tab's sockets do: transport and cookie as for a Client.
 */
export function connection({ cookie, transport = "websocket" } = {}) {
  return new Manager(URL, connectionOptions({ reconnection: false, timeout: WAIT_MS }, { transport, cookie }));
}

/**
 * Adds to socket.io-client options the transport ("websocket" only, or "browser": polling, then
 * the upgrade) and the session cookie, if any.
 */
function connectionOptions(opts, { transport, cookie }) {
  if (transport === "websocket") {
    opts.transports = ["websocket"];
  } else if (transport !== "browser") {
    throw new Error(`unknown transport ${transport}`);
  }
  if (cookie) {
    opts.extraHeaders = { cookie };
    opts.withCredentials = true;
  }
  return opts;
}

/**
 * A PizzaPi CLI on /relay: connects with transports ["websocket"], registers a session and
 * numbers its events 1, 2, 3... per registration.
 */
export class CLI extends Client {
  constructor(label, apiKey, opts = {}) {
    super(label, "/relay", { auth: { apiKey }, transport: "websocket", ...opts });
    this.seq = 0;
  }

  /** Registers like PizzaPi's CLI (emit, then wait for "registered"); returns the payload. */
  async register(payload) {
    this.emit("register", payload);
    const reg = await this.wait("registered", (p) => p.sessionId === payload.sessionId, { what: `for ${payload.sessionId}` });
    this.#use(reg);
    return reg;
  }

  /** Registers asking for an acknowledgement; returns {ack, registered}. */
  async registerWithAck(payload) {
    const ack = await this.ack("register", payload);
    const registered = await this.wait("registered", (p) => p.sessionId === payload.sessionId, { what: `for ${payload.sessionId}` });
    this.#use(registered);
    return { ack, registered };
  }

  #use(reg) {
    this.sessionId = reg.sessionId;
    this.token = reg.token;
    this.seq = 0;
  }

  /** Publishes one agent event with the next number; returns that number. */
  send(event) {
    this.seq++;
    this.emit("event", { sessionId: this.sessionId, token: this.token, seq: this.seq, event });
    return this.seq;
  }

  /** Waits until the relay acknowledged every event sent so far. */
  async synced() {
    const want = this.seq;
    await this.wait("event_ack", (p) => p.seq >= want, { what: `with seq >= ${want}` });
  }

  end() {
    this.emit("session_end", { sessionId: this.sessionId, token: this.token });
  }
}

/** A text_delta message_update agent event carrying a recognisable delta. */
export const delta = (text) => ({ type: "message_update", assistantMessageEvent: { type: "text_delta", contentIndex: 0, delta: text } });

/** Whether a viewer "event" payload is the text_delta event with this delta. */
export const isDelta = (text) => (p) => p?.event?.type === "message_update" && p.event.assistantMessageEvent?.delta === text;
