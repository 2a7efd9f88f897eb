// End to end: the web viewer in a real Chromium (driven by playwright-core) against a real relay
// (`pizzapi serve`), a publishing agent (`pizzapi share --demo`) and a runner daemon
// (`pizzapi runner`). Run by server/web/e2e_test.go, which builds the binary and starts the relay.
// Every step saves a screenshot; a failure saves one more and the page's HTML.
//
// Environment:
//   PIZZAPI_URL        base URL of the running relay
//   PIZZAPI_BIN        the pizzapi binary (for share and runner)
//   PIZZAPI_CHROMIUM   the Chromium executable
//   PIZZAPI_E2E_OUT    where screenshots and logs go
//   PIZZAPI_E2E_WORK   an empty scratch directory (browser profile, agent and runner homes)

import { spawn } from "node:child_process";
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};
const URL = env("PIZZAPI_URL").replace(/\/+$/, "");
const BIN = env("PIZZAPI_BIN");
const OUT = env("PIZZAPI_E2E_OUT");
const WORK = env("PIZZAPI_E2E_WORK");
const CHROMIUM = env("PIZZAPI_CHROMIUM");

const WAIT = 20_000;
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };
const started = Date.now();
const children = [];
const pageErrors = [];

const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

/** Starts a pizzapi subcommand with its output in OUT/<name>.log; it is stopped at the end. */
function pizzapi(name, args, extraEnv) {
  const home = join(WORK, `${name}-home`);
  mkdirSync(home, { recursive: true });
  const child = spawn(BIN, args, {
    env: { ...process.env, HOME: home, PIZZAPI_HOME: home, PIZZAPI_RELAY_URL: URL, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = createWriteStream(join(OUT, `${name}.log`));
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.on("exit", (code, signal) => log(`${name} exited (${signal ?? code})`));
  children.push(child);
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGINT");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
}

async function shot(page, name) {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  await page.screenshot({ path: join(OUT, "screenshots", `${name}.png`) });
  log(`screenshot ${name}.png`);
}

const messages = (page) => page.locator(".transcript .msg");
const assistantText = (page, text) => page.locator(".msg-assistant").filter({ hasText: text });
const pill = (page) => page.locator(".session-header .pill");

/**
 * The conversation as text, one entry per message: its role, text, thinking, and tool calls with
 * their state. (Thinking durations are left out: snapshots do not carry them.)
 */
const transcript = (page) =>
  messages(page).evaluateAll((els) =>
    els.map((e) =>
      [e.dataset.role, ...[...e.querySelectorAll(".md, .thinking-text, .tool")].map((b) => (b.matches(".tool") ? `${b.className}: ${b.querySelector("summary").textContent}` : b.textContent))].join(" | "),
    ),
  );

async function waitForText(locator, text, timeout = WAIT) {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

/**
 * A push service for the browser, which cannot reach a real one here: Chromium's own
 * PushManager.subscribe needs Google's servers, so the page's PushManager is given a subscription
 * whose endpoint is this local service (with keys made here). The relay sends to it as to any
 * push service; it decrypts each message (RFC 8291, aes128gcm) and delivers the plaintext to the
 * page's real service worker through the DevTools protocol (ServiceWorker.deliverPushMessage).
 */
async function startPushService() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const uaPublic = ecdh.getPublicKey();
  const auth = randomBytes(16);
  const received = [];
  const waiters = [];
  let deliver = async () => {};
  const decrypt = (body) => {
    const salt = body.subarray(0, 16);
    const idlen = body[20];
    const asPublic = body.subarray(21, 21 + idlen);
    const ct = body.subarray(21 + idlen);
    const shared = ecdh.computeSecret(asPublic);
    const key = (ikm, salt, info, n) => Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from(info), n));
    const ikm = key(shared, auth, Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic]), 32);
    const d = createDecipheriv("aes-128-gcm", key(ikm, salt, "Content-Encoding: aes128gcm\0", 16), key(ikm, salt, "Content-Encoding: nonce\0", 12));
    d.setAuthTag(ct.subarray(ct.length - 16));
    const plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (plain[end] !== 2) throw new Error("no padding delimiter");
    return plain.subarray(0, end).toString("utf8");
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      try {
        if (!req.headers.authorization?.startsWith("vapid t=")) throw new Error("no VAPID authorization");
        const text = decrypt(Buffer.concat(chunks));
        const payload = JSON.parse(text);
        log(`push service: ${payload.type} for ${payload.sessionId}`);
        received.push(payload);
        waiters.splice(0).forEach((w) => w());
        await deliver(text);
        res.writeHead(201).end();
      } catch (e) {
        log(`push service: bad request: ${e.message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}/push/e2e-browser`,
    p256dh: uaPublic.toString("base64url"),
    auth: auth.toString("base64url"),
    received,
    onDeliver(f) {
      deliver = f;
    },
    /** Waits for a message of this type (and session, when given). */
    async next(type, sessionId, timeout = WAIT) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const m = received.find((p) => p.type === type && (!sessionId || p.sessionId === sessionId));
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no ${type} push within ${timeout} ms (got ${JSON.stringify(received.map((p) => p.type))})`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
    },
    close: () => server.close(),
  };
}

/** The page's PushManager, subscribed to the local push service (kept across reloads). */
function fakePushManager({ endpoint, p256dh, auth }) {
  const flag = "pizzapi-e2e-push";
  const subscription = {
    endpoint,
    expirationTime: null,
    options: { applicationServerKey: null, userVisibleOnly: true },
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh, auth } }),
    unsubscribe: async () => {
      localStorage.removeItem(flag);
      return true;
    },
  };
  PushManager.prototype.subscribe = async function () {
    localStorage.setItem(flag, "1");
    return subscription;
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem(flag) ? subscription : null;
  };
}

const steps = {
  async signUp(page, account) {
    await page.goto(URL);
    await page.getByRole("button", { name: "Sign in" }).first().waitFor();
    await shot(page, "01-sign-in-desktop");
    await page.getByRole("tab", { name: "Sign up" }).click();
    await page.getByLabel("Name").fill(account.name);
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await shot(page, "02-sign-up-desktop");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Live sessions" }).waitFor();
    await page.getByText("No live sessions").waitFor();
    await page.locator(".conn-online").waitFor();
    await shot(page, "03-sessions-empty-desktop");
  },

  async apiKey(account) {
    const res = await fetch(`${URL}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: account.email, password: account.password }),
    });
    if (!res.ok) throw new Error(`POST /api/register: ${res.status} ${await res.text()}`);
    return (await res.json()).key;
  },

  /** The session appears in the list live (from /hub), then streams in the session view. */
  async watchDemo(page, cwd) {
    const card = page.locator(".session-card").filter({ hasText: "Fix the flaky reconnect test" });
    await card.waitFor({ timeout: WAIT });
    await waitForText(card, cwd);
    await shot(page, "04-sessions-live-desktop");
    await card.click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/);
    await page.locator(".msg-assistant.streaming .md").first().waitFor({ timeout: WAIT });
    await shot(page, "05-session-streaming-desktop");
    await assistantText(page, "Verified:").waitFor({ timeout: 60_000 });
    await pill(page).filter({ hasText: "Idle" }).waitFor({ timeout: WAIT });
    await page.locator(".tool-done").first().waitFor();
    await page.locator(".todos").getByText("Todo 3/3").waitFor();
    return page.url();
  },

  /** Collab: an attachment and a message, the agent's reply, then stop while it streams. */
  async collab(page) {
    await page.locator('.composer input[type="file"]').setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("regression notes\n") });
    await page.locator(".chip").filter({ hasText: "notes.txt" }).waitFor();
    await page.getByLabel("Message").fill("Please add a regression test");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".msg-user").filter({ hasText: "Please add a regression test" }).waitFor({ timeout: WAIT });
    // The reply streams for about two seconds: stop it as soon as it shows.
    await assistantText(page, "You said: “Please add a regression test").waitFor({ timeout: WAIT });
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("status").filter({ hasText: "Agent stopped." }).waitFor({ timeout: WAIT });
    await pill(page).filter({ hasText: "Idle" }).waitFor({ timeout: WAIT });
    if ((await assistantText(page, "Send another message").count()) > 0) throw new Error("the reply ran to its end: Stop did not stop the agent");
    await page.locator(".msg-note").filter({ hasText: "aborted" }).waitFor();
    await shot(page, "06-session-stopped-desktop");
  },

  async switchModel(page) {
    await page.getByLabel("Model").selectOption("openai/gpt-5");
    await page.getByRole("status").filter({ hasText: "Model switched to openai/gpt-5" }).waitFor({ timeout: WAIT });
  },

  /** A reload shows the same conversation, from the snapshot. */
  async reload(page) {
    const before = await transcript(page);
    await page.reload();
    await page.waitForFunction((n) => document.querySelectorAll(".transcript .msg").length >= n, before.length, { timeout: WAIT });
    const after = await transcript(page);
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      throw new Error(`the conversation differs after a reload:\nbefore: ${JSON.stringify(before)}\nafter:  ${JSON.stringify(after)}`);
    }
    log(`reload: the same ${after.length} messages`);
    await shot(page, "07-session-reloaded-desktop");
  },

  async phone(page, sessionURL) {
    await page.setViewportSize(phone);
    await page.goto(URL);
    await page.locator(".session-card").first().waitFor();
    await shot(page, "08-sessions-phone");
    await page.goto(sessionURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await shot(page, "09-session-phone");
    await page.setViewportSize(desktop);
  },

  /** A runner connects; a session is spawned from the runners page and a terminal runs a command. */
  async runner(page, apiKey) {
    const workspace = join(WORK, "workspace");
    mkdirSync(join(workspace, "project"), { recursive: true });
    pizzapi("runner", ["runner"], {
      PIZZAPI_API_KEY: apiKey,
      PIZZAPI_WORKSPACE_ROOTS: workspace,
      PIZZAPI_RUNNER_STATE_PATH: join(WORK, "runner-state.json"),
    });
    await page.goto(`${URL}/runners`);
    const card = page.locator(".runner-card").first();
    await card.waitFor({ timeout: WAIT });
    await card.getByLabel("Folder").fill(join(workspace, "project"));
    await card.getByLabel("First prompt").fill("Hello from the runners page");
    await shot(page, "10-runners-desktop");
    await card.getByRole("button", { name: "Start session" }).click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/, { timeout: WAIT });
    await page.locator(".session-meta").getByText(/^on \S+$/).waitFor({ timeout: WAIT });
    await page.locator(".msg-assistant .md").first().waitFor({ timeout: WAIT });
    await shot(page, "11-runner-session-desktop");

    await page.goto(`${URL}/runners`);
    await page.locator(".runner-card").first().getByRole("button", { name: "Open terminal" }).click();
    await page.waitForURL(/\/terminal\/[^/]+$/, { timeout: WAIT });
    await page.locator(".xterm-rows").waitFor({ timeout: WAIT });
    await page.locator(".pill").filter({ hasText: "Running" }).waitFor({ timeout: WAIT });
    await page.locator(".xterm").click();
    await page.keyboard.type("echo hello\n");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".xterm-rows > div")].some((row) => row.textContent?.trim() === "hello"),
      undefined,
      { timeout: WAIT },
    );
    await shot(page, "12-terminal-desktop");
    await page.setViewportSize(phone);
    await page.goto(`${URL}/runners`);
    await page.locator(".runner-card").first().waitFor();
    await shot(page, "13-runners-phone");
    await page.setViewportSize(desktop);
  },

  /** The agent stops: the open session says so, and the ended session replays from the list. */
  async ended(page, agent, sessionURL) {
    await page.goto(sessionURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await stop(agent);
    await page.locator(".banner").filter({ hasText: "Session ended." }).waitFor({ timeout: WAIT });
    await shot(page, "14-session-ended-desktop");
    await page.goto(URL);
    const row = page.locator(".rows .row").filter({ hasText: "project" }).first();
    await row.waitFor({ timeout: WAIT });
    await row.click();
    await page.locator(".banner").filter({ hasText: "replay only" }).waitFor({ timeout: WAIT });
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await shot(page, "15-session-replay-desktop");
  },

  /**
   * Notifications: the settings panel turns them on (permission granted by the test, as a user
   * would), the choice survives a reload, an agent finishing with nobody watching shows an "Agent
   * finished" notification from the real service worker, and clicking it opens the session.
   */
  async push(page, context, pushService, apiKey) {
    await context.grantPermissions(["notifications"], { origin: URL });
    await page.goto(`${URL}/notifications`);
    await page.getByRole("heading", { name: "Notifications", exact: true }).waitFor();
    await page.getByText("Notifications are off for this device.").waitFor();
    if (!(await page.getByLabel("An agent finished its turn").isChecked())) throw new Error("agent_finished is not chosen by default");
    await page.getByLabel("A session ended").check();
    await shot(page, "push-01-settings-off-desktop");
    await page.getByRole("button", { name: "Turn on notifications" }).click();
    await page.getByText("Notifications are on for this device.").waitFor({ timeout: WAIT });
    await page.locator(".push-devices").getByText("This device").waitFor();
    await page.reload();
    await page.getByText("Notifications are on for this device.").waitFor({ timeout: WAIT });
    if (!(await page.getByLabel("A session ended").isChecked())) throw new Error("the chosen kinds did not survive a reload");
    if (await page.getByLabel("A session started").isChecked()) throw new Error("session_started is on without being chosen");
    await shot(page, "push-02-settings-on-desktop");

    // Deliver the relay's pushes to the page's service worker.
    const cdp = await context.newCDPSession(page);
    const registrations = new Map();
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => e.registrations.forEach((r) => registrations.set(r.scopeURL, r)));
    await cdp.send("ServiceWorker.enable");
    pushService.onDeliver(async (data) => {
      const reg = registrations.get(`${URL}/`);
      if (!reg || reg.isDeleted) throw new Error("no service worker registration for the app");
      await cdp.send("ServiceWorker.deliverPushMessage", { origin: URL, registrationId: reg.registrationId, data });
    });

    // An agent nobody watches finishes its turn.
    const cwd = join(WORK, "unwatched");
    mkdirSync(cwd, { recursive: true });
    const agent = pizzapi("share-unwatched", ["share", "--demo", "--cwd", cwd], { PIZZAPI_API_KEY: apiKey });
    const finished = await pushService.next("agent_finished", undefined, 60_000);
    if (finished.title !== "Agent finished" || !finished.url.endsWith(`/session/${finished.sessionId}`)) throw new Error(`payload ${JSON.stringify(finished)}`);
    if (pushService.received.some((p) => p.type === "session_started")) throw new Error("a session_started push although not chosen");
    const tag = `pizzapi-agent_finished-${finished.sessionId}`;
    let n;
    for (const deadline = Date.now() + WAIT; !n; await page.waitForTimeout(250)) {
      n = await page.evaluate(async (tag) => {
        const list = await (await navigator.serviceWorker.ready).getNotifications({ tag });
        return list.length === 1 ? { title: list[0].title, body: list[0].body, url: list[0].data.url } : null;
      }, tag);
      if (!n && Date.now() > deadline) throw new Error(`no notification tagged ${tag} is shown`);
    }
    if (n.title !== "Agent finished" || n.body !== finished.body || n.url !== `/session/${finished.sessionId}`) throw new Error(`notification ${JSON.stringify(n)}`);
    log(`notification shown: ${n.title}: ${n.body}`);

    // A click focuses this tab and shows the session; with no tab open it would open the session.
    const worker = context.serviceWorkers().find((w) => w.url() === `${URL}/sw.js`);
    if (!worker) throw new Error("the service worker is not running");
    const target = await worker.evaluate((id) => pizzapiTarget({ sessionId: id, url: "https://elsewhere.example/x" }), finished.sessionId);
    if (target !== `/session/${finished.sessionId}`) throw new Error(`click target for a foreign URL: ${target}`);
    await worker.evaluate(async (tag) => {
      const [notification] = await self.registration.getNotifications({ tag });
      self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
    }, `pizzapi-agent_finished-${finished.sessionId}`);
    await page.waitForURL(`${URL}/session/${finished.sessionId}`, { timeout: WAIT });
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await shot(page, "push-03-opened-from-notification-desktop");

    // Leave the session unwatched again, stop the agent: "Session ended" arrives.
    await page.goto(`${URL}/notifications`);
    await page.getByText("Notifications are on for this device.").waitFor({ timeout: WAIT });
    await stop(agent);
    await pushService.next("session_ended", finished.sessionId);

    await page.getByRole("button", { name: "Turn off notifications" }).click();
    await page.getByText("Notifications are off for this device.").waitFor({ timeout: WAIT });
    await page.locator(".push-devices").waitFor({ state: "detached" });
    await shot(page, "push-04-settings-removed-desktop");
    await cdp.detach();
  },

  async signOut(page) {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("tab", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.setViewportSize(phone);
    await page.getByRole("tab", { name: "Sign in" }).waitFor();
    await shot(page, "16-sign-in-phone");
  },
};

async function main() {
  mkdirSync(join(OUT, "screenshots"), { recursive: true });
  const context = await chromium.launchPersistentContext(join(WORK, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: desktop,
  });
  const pushService = await startPushService();
  await context.addInitScript(fakePushManager, { endpoint: pushService.endpoint, p256dh: pushService.p256dh, auth: pushService.auth });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.stack ?? String(e)));
  page.on("console", (m) => m.type() === "error" && log(`console: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && log(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`));
  const account = { name: "Ada", email: `ada-${Date.now()}@example.com`, password: "correct horse battery" };
  let step = "start";
  const run = async (name, f) => {
    step = name;
    log(`step ${name}`);
    return f();
  };
  try {
    await run("sign up", () => steps.signUp(page, account));
    const key = await run("api key", () => steps.apiKey(account));
    const cwd = join(WORK, "project");
    mkdirSync(cwd, { recursive: true });
    const agent = pizzapi("share", ["share", "--demo", "--cwd", cwd], { PIZZAPI_API_KEY: key });
    const sessionURL = await run("watch the demo agent", () => steps.watchDemo(page, cwd));
    await run("collab input and stop", () => steps.collab(page));
    await run("switch the model", () => steps.switchModel(page));
    await run("reload", () => steps.reload(page));
    await run("phone", () => steps.phone(page, sessionURL));
    await run("runner", () => steps.runner(page, key));
    await run("ended session", () => steps.ended(page, agent, sessionURL));
    await run("push notifications", () => steps.push(page, context, pushService, key));
    await run("sign out", () => steps.signOut(page));
    if (pageErrors.length > 0) throw new Error(`uncaught errors in the page:\n${pageErrors.join("\n")}`);
  } catch (e) {
    await page.screenshot({ path: join(OUT, "screenshots", "failure.png") }).catch(() => {});
    writeFileSync(join(OUT, "failure.html"), await page.content().catch(() => ""));
    throw new Error(`step "${step}": ${e.message}`);
  } finally {
    await context.close();
    pushService.close();
    await Promise.all(children.map(stop));
  }
}

main().then(
  () => log("e2e passed"),
  (e) => {
    process.stderr.write(`FAIL ${e.message}\n`);
    process.exitCode = 1;
  },
);
