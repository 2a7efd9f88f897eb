// End to end: the web app in a real Chromium (driven by playwright-core) against a real relay
// (`pizzapi serve`), publishing agents (`pizzapi share --demo`, and `pizzapi share --jsonl` with a
// recorded session holding every kind of tool card) and a runner daemon (`pizzapi runner`). Run
// by server/web/e2e_test.go, which builds the binary and starts the relay. Every step saves
// screenshots (desktop and phone); axe-core checks the main pages for serious accessibility
// violations; a failure saves one more screenshot and the page's HTML.
//
// Environment:
//   PIZZAPI_URL        base URL of the running relay
//   PIZZAPI_BIN        the pizzapi binary (for share and runner)
//   PIZZAPI_CHROMIUM   the Chromium executable
//   PIZZAPI_E2E_OUT    where screenshots and logs go
//   PIZZAPI_E2E_WORK   an empty scratch directory (browser profile, agent and runner homes)

import { execFileSync, spawn } from "node:child_process";
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { everyToolEvents, readContent } from "./fixtures.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

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
const pill = (page) => page.locator(".session-header .pill").first();

/** Runs axe-core on the page and fails on serious or critical violations. */
async function axe(page, name) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.html.slice(0, 160)}`) }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  writeFileSync(join(OUT, "axe", `${name}.json`), JSON.stringify(violations, null, 2));
  log(`axe ${name}: ${violations.length} violations, ${serious.length} serious`);
  if (serious.length > 0) throw new Error(`accessibility (${name}): ${JSON.stringify(serious, null, 2)}`);
}

/** Closes the open dialog with Escape, as a keyboard user would. */
async function closeDialog(page, name) {
  const dialog = page.getByRole("dialog", { name });
  await dialog.waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
}

/** Sends a slash command from the composer and waits for the notice it gives. */
async function command(page, text, notice) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
  await page.locator(".composer .notice").filter({ hasText: notice }).waitFor({ timeout: WAIT });
}

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
    await axe(page, "sign-in");
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
    await axe(page, "sessions-empty");
  },

  /**
   * The account page: the theme is remembered; an API key created here is shown once and listed
   * by name and prefix (it is the key the agents and the runner of this test use); a deleted key
   * stops working.
   */
  async account(page) {
    await page.getByRole("link", { name: /Account of/ }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByLabel("Dark").check();
    await page.reload();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== "dark") throw new Error("the dark theme was not remembered across a reload");
    if (!(await page.getByLabel("Dark").isChecked())) throw new Error("the theme picker does not show the remembered theme");
    await shot(page, "04-account-dark-desktop");
    await axe(page, "account-dark");
    await page.getByLabel("System").check();
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== undefined) throw new Error("the system theme left data-theme set");

    const create = async (name) => {
      await page.getByLabel("Name of a new key").fill(name);
      await page.getByRole("button", { name: "Create key" }).click();
      await page.locator(".keys-table tr").filter({ hasText: name }).waitFor();
      return (await page.locator(".new-key .key").textContent()).trim();
    };
    const key = await create("e2e agents");
    if (!/^pzp_[0-9a-f]{64}$/.test(key)) throw new Error(`the new key looks wrong: ${key}`);
    const row = page.locator(".keys-table tr").filter({ hasText: "e2e agents" });
    await waitForText(row, key.slice(0, 10));
    await waitForText(row, "never");
    const spare = await create("spare");
    await shot(page, "05-account-keys-desktop");
    const use = (k) => fetch(`${URL}/api/sessions`, { headers: { "x-api-key": k } }).then((r) => r.status);
    if ((await use(spare)) !== 200) throw new Error("the spare key does not work");
    await page.getByRole("button", { name: "Delete key spare" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete key" }).click();
    await page.locator(".keys-table tr").filter({ hasText: "spare" }).waitFor({ state: "detached" });
    if ((await use(spare)) !== 401) throw new Error("a deleted key still works");
    await page.setViewportSize(phone);
    await shot(page, "06-account-phone");
    await page.setViewportSize(desktop);
    await page.getByRole("link", { name: "Sessions" }).click();
    return key;
  },

  /** The session appears in the list live (from /hub), then streams in the session view. */
  async watchDemo(page, cwd) {
    const card = page.locator(".session-card").filter({ hasText: "Fix the flaky reconnect test" });
    await card.waitFor({ timeout: WAIT });
    await waitForText(card, cwd);
    await shot(page, "07-sessions-live-desktop");
    await card.click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/);
    await page.locator(".msg-assistant.streaming .md").first().waitFor({ timeout: WAIT });
    await shot(page, "08-session-streaming-desktop");
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
    await page.getByLabel("Message", { exact: true }).fill("Please add a regression test");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".msg-user").filter({ hasText: "Please add a regression test" }).waitFor({ timeout: WAIT });
    // The reply streams for about two seconds: stop it as soon as it shows.
    await assistantText(page, "You said: “Please add a regression test").waitFor({ timeout: WAIT });
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("status").filter({ hasText: "Agent stopped." }).waitFor({ timeout: WAIT });
    await pill(page).filter({ hasText: "Idle" }).waitFor({ timeout: WAIT });
    if ((await assistantText(page, "Send another message").count()) > 0) throw new Error("the reply ran to its end: Stop did not stop the agent");
    await page.locator(".msg-note").filter({ hasText: "aborted" }).waitFor();
    await shot(page, "09-session-stopped-desktop");
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
    await shot(page, "10-session-reloaded-desktop");
  },

  async phone(page, sessionURL) {
    await page.setViewportSize(phone);
    await page.goto(URL);
    await page.locator(".session-card").first().waitFor();
    await shot(page, "11-sessions-phone");
    await page.goto(sessionURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await shot(page, "12-session-phone");
    await axe(page, "session-phone");
    await page.setViewportSize(desktop);
  },

  /** A runner connects; a session is spawned from the runners page and a terminal runs a command. */
  async runner(page, apiKey) {
    const workspace = join(WORK, "workspace");
    const project = join(workspace, "project");
    mkdirSync(project, { recursive: true });
    // A git repository with a committed file changed since, and an image.
    writeFileSync(join(project, "main.go"), "package main\n\nfunc main() {}\n");
    writeFileSync(join(project, "logo.png"), readFileSync(new globalThis.URL("../public/icon-192.png", import.meta.url)));
    const git = (...args) => execFileSync("git", ["-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-C", project, ...args], { stdio: "pipe" });
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "initial");
    writeFileSync(join(project, "main.go"), "package main\n\n// changed by the e2e test\nfunc main() {}\n");
    const runnerEnv = {
      PIZZAPI_API_KEY: apiKey,
      PIZZAPI_WORKSPACE_ROOTS: workspace,
      PIZZAPI_RUNNER_STATE_PATH: join(WORK, "runner-state.json"),
      PIZZAPI_RUNNER_NAME: "e2e-runner",
    };
    let daemon = pizzapi("runner", ["runner"], runnerEnv);
    await page.goto(`${URL}/runners`);
    const card = page.locator(".runner-card").first();
    await card.waitFor({ timeout: WAIT });
    await card.getByLabel("Folder").fill(join(workspace, "project"));
    await card.getByLabel("First prompt").fill("Hello from the runners page");
    await shot(page, "20-runners-desktop");
    await axe(page, "runners");
    await card.getByRole("button", { name: "Start session" }).click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/, { timeout: WAIT });
    await page.locator(".session-meta").getByText(/^on \S+$/).waitFor({ timeout: WAIT });
    await page.locator(".msg-assistant .md").first().waitFor({ timeout: WAIT });
    await shot(page, "22-runner-session-desktop");

    // The workspace beside the session: files, git and a terminal tab.
    const panel = page.locator(".workspace-panel");
    await page.getByRole("button", { name: "Files", exact: true }).click();
    await panel.getByRole("button", { name: /main\.go/ }).click();
    await panel.locator(".code-view code.hljs").waitFor({ timeout: WAIT });
    await panel.getByRole("button", { name: "← Files" }).click();
    await panel.getByRole("button", { name: /logo\.png/ }).click();
    await panel.locator("img.file-image").waitFor({ timeout: WAIT });
    await shot(page, "23-files-desktop");
    await axe(page, "files");
    await page.getByRole("button", { name: "Git", exact: true }).click();
    await waitForText(panel, "On main");
    await panel.getByRole("button", { name: /main\.go/ }).click();
    await panel.locator(".patch-add").filter({ hasText: "+// changed by the e2e test" }).waitFor({ timeout: WAIT });
    await shot(page, "24-git-diff-desktop");
    await page.getByRole("button", { name: "Terminal", exact: true }).click();
    await panel.getByRole("button", { name: "+ Terminal" }).click();
    await panel.locator(".pill").filter({ hasText: "Running" }).waitFor({ timeout: WAIT });
    await panel.locator(".xterm").click();
    await page.keyboard.type("pwd\n");
    await page.waitForFunction(
      (dir) => [...document.querySelectorAll(".workspace-panel .xterm-rows > div")].map((row) => row.textContent ?? "").join("").replace(/\s/g, "").includes(`pwd${dir}`.replace(/\s/g, "")),
      join(workspace, "project"),
      { timeout: WAIT },
    );
    await shot(page, "25-terminal-docked-desktop");
    await page.setViewportSize(phone);
    await page.locator(".workspace-panel.full-page").waitFor();
    await shot(page, "26-terminal-phone");
    await page.getByRole("button", { name: "Close Terminal" }).click();
    await page.setViewportSize(desktop);

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
    await shot(page, "27-terminal-desktop");
    await page.setViewportSize(phone);
    await page.goto(`${URL}/runners`);
    await page.locator(".runner-card").first().waitFor();
    await shot(page, "28-runners-phone");
    await page.setViewportSize(desktop);

    // The runner's page: its live sessions, the skills editor, and a restart.
    await page.locator(".runner-card").first().getByRole("link", { name: "e2e-runner" }).click();
    await page.getByRole("heading", { name: "e2e-runner" }).waitFor();
    await page.locator(".runner-sessions .row").first().waitFor({ timeout: WAIT });
    await page.getByRole("button", { name: "New skill" }).click();
    const dialog = page.getByRole("dialog", { name: "New skill" });
    await dialog.getByLabel("Name").fill("go-bench");
    await dialog.getByLabel("SKILL.md").fill("---\nname: go-bench\ndescription: Benchmark a Go package\n---\n\nRun go test -bench.\n");
    await dialog.getByRole("button", { name: "Save skill" }).click();
    const skillRow = page.locator(".skill-row").filter({ hasText: "go-bench" });
    await waitForText(skillRow, "Benchmark a Go package");
    await page.getByRole("button", { name: "Edit go-bench" }).click();
    const editDialog = page.getByRole("dialog", { name: "Edit go-bench" });
    await editDialog.getByLabel("SKILL.md").fill("---\nname: go-bench\ndescription: Benchmark and compare with main\n---\n");
    await editDialog.getByRole("button", { name: "Save skill" }).click();
    await waitForText(skillRow, "Benchmark and compare with main");
    await shot(page, "29-runner-skills-desktop");
    await axe(page, "runner-page");
    await page.getByRole("button", { name: "Delete go-bench" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete skill" }).click();
    await skillRow.waitFor({ state: "detached", timeout: WAIT });

    const exited = new Promise((resolve) => daemon.once("exit", (code) => resolve(code)));
    await page.getByRole("button", { name: "Restart runner" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Restart" }).click();
    await page.getByRole("status").filter({ hasText: "The runner is restarting" }).waitFor({ timeout: WAIT });
    const code = await exited;
    if (code !== 42) throw new Error(`the runner exited with ${code} after a restart, want 42 (restart me)`);
    // As a supervisor would: start it again; it comes back with the same identity.
    daemon = pizzapi("runner-again", ["runner"], runnerEnv);
    await page.goto(`${URL}/runners`);
    await page.locator(".runner-card").filter({ hasText: "e2e-runner" }).waitFor({ timeout: WAIT });
  },

  /**
   * The recorded session: every tool kind has its card, markdown renders with GFM and without
   * running anything hostile, usage shows, and the waiting question is answered from the page.
   */
  async everyTool(page, key) {
    const cwd = join(WORK, "every-tool");
    mkdirSync(cwd, { recursive: true });
    const file = join(WORK, "every-tool.jsonl");
    writeFileSync(file, everyToolEvents().map((e) => JSON.stringify(e)).join("\n") + "\n");
    const agent = pizzapi("share-jsonl", ["share", "--jsonl", file, "--cwd", cwd, "--name", "Every tool"], { PIZZAPI_API_KEY: key });
    await page.goto(URL);
    await page.locator(".session-card").filter({ hasText: "Every tool" }).click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/);
    const card = (name) => page.locator(`.tool[data-tool="${name}"]`).first();
    await card("web_search").waitFor({ timeout: WAIT });
    // Finished cards are closed: open them as a reader would, by their summary.
    for (const el of await page.locator(".tool").all()) {
      if (!(await el.evaluate((d) => d.open))) await el.locator("summary").click();
    }

    // bash: the command, long output collapsed to its end, the exit status.
    const bash = card("bash");
    await waitForText(bash.locator(".tool-command"), "$ go test ./...");
    await waitForText(bash.locator(".badge"), "exit 0");
    await bash.getByRole("button", { name: "Show all 30 lines" }).waitFor();
    if (await bash.locator(".tool-output").textContent().then((t) => t.includes("pkg1\t"))) throw new Error("the long output is not collapsed");
    await bash.getByRole("button", { name: "Show all 30 lines" }).click();
    await waitForText(bash.locator(".tool-output"), "pkg1\t");
    const failed = page.locator(".tool.tool-failed.tool-kind-bash");
    await waitForText(failed.locator(".badge"), "exit 1");
    // read: highlighted, numbered from the offset.
    const read = card("read");
    await read.locator(".code-view code.hljs .hljs-keyword").first().waitFor({ timeout: WAIT });
    const gutter = (await read.locator(".gutter").textContent()).trim().split("\n");
    if (gutter[0] !== "10" || gutter.length !== readContent.split("\n").length) throw new Error(`read line numbers: ${gutter.join(",")}`);
    // edit: a real diff, side by side on a wide screen.
    const edit = card("edit");
    await edit.locator(".diff-split .diff-add").filter({ hasText: "time.Sleep(d)" }).waitFor({ timeout: WAIT });
    await waitForText(edit.locator(".diff-stats"), "+1");
    // write: the new file, highlighted.
    await card("write").locator(".code-view code.hljs").waitFor({ timeout: WAIT });
    await waitForText(card("write"), "New file");
    // todo tool, image from a tool and from the user, the unknown tool's generic card.
    await waitForText(card("todo_write").locator(".todo-list"), "Fix the race");
    await card("screenshot").locator("img.msg-image").waitFor();
    await page.locator(".msg-user img.msg-image").waitFor();
    await waitForText(card("web_search").locator(".tool-io").first(), '"query": "go test race detector"');
    const states = await page.locator(".tool").evaluateAll((els) => els.map((e) => [e.dataset.tool, e.className.match(/tool-(running|done|failed)/)[1]]));
    log(`tool cards: ${JSON.stringify(states)}`);
    for (const [name, state] of states) {
      const want = name === "AskUserQuestion" ? "running" : null;
      if (want && state !== want) throw new Error(`${name} is ${state}, want ${want}`);
      if (!want && state === "running") throw new Error(`${name} still shows as running`);
    }

    // Markdown: GFM, highlighted code, and nothing hostile ran or rendered.
    const md = page.locator(".md").filter({ hasText: "Summary" });
    await md.locator("table td").filter({ hasText: "passed" }).waitFor();
    await md.locator("del").filter({ hasText: "failed" }).waitFor();
    await md.locator('input[type="checkbox"][disabled]').first().waitFor();
    await md.locator('a[href="https://go.dev/doc/articles/race_detector"]').waitFor();
    await md.locator("pre code.hljs").waitFor({ timeout: WAIT });
    await waitForText(md, "<script>window.__pwned = 'script'</script>");
    const hostile = await page.evaluate(() => ({
      pwned: window.__pwned ?? null,
      scripts: document.querySelectorAll(".transcript script, .transcript svg, .transcript iframe").length,
      handlers: [...document.querySelectorAll(".transcript .md *")].flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${e.tagName}[${a.name}]`)),
      jsLinks: [...document.querySelectorAll(".transcript a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") ?? "")).length,
    }));
    if (hostile.pwned || hostile.scripts || hostile.handlers.length || hostile.jsLinks) throw new Error(`hostile markdown was not neutralised: ${JSON.stringify(hostile)}`);
    if ((await md.locator("a").filter({ hasText: "a link with a handler" }).count()) !== 0) throw new Error("raw HTML became a link");

    // Usage from the heartbeat: tokens, cost and the context used.
    const usage = page.getByLabel("Usage");
    await waitForText(usage, "tokens");
    await waitForText(usage, "$");
    await waitForText(usage, "% context");
    await shot(page, "13-every-tool-desktop");
    await axe(page, "every-tool-desktop");

    // The question waits with its options; an answer goes from the page to the agent (a recording
    // cannot take it, and says so).
    const ask = card("AskUserQuestion");
    await waitForText(ask, "Which database should the sessions use?");
    await page.setViewportSize(phone);
    await card("edit").locator(".diff-unified .diff-add").first().waitFor();
    await shot(page, "14-every-tool-phone");
    await axe(page, "every-tool-phone");
    await page.setViewportSize(desktop);
    await ask.getByRole("button", { name: "PostgreSQL" }).click();
    await waitForText(ask, "Answer sent: PostgreSQL");
    await page.locator(".composer .notice").filter({ hasText: "Could not deliver the message" }).waitFor({ timeout: WAIT });
    await shot(page, "15-question-answered-desktop");
    return { agent, url: page.url() };
  },

  /**
   * A page whose clock runs 40 s ahead without a heartbeat shows the stale badge until one comes.
   * The agent keeps heartbeating every 10 s: one that lands between a jump and the check clears
   * the badge before it is seen (on a loaded machine that window is seconds wide), so the clock
   * jumps again until the badge shows, a few times at most.
   */
  async stale(context, sessionURL) {
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(sessionURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    const badge = page.locator(".usage .pill-bad").filter({ hasText: "No heartbeat for" });
    for (let jump = 1; ; jump++) {
      await page.clock.fastForward(40_000);
      try {
        await badge.waitFor({ timeout: 10_000 });
        break;
      } catch (e) {
        if (jump === 5) throw e;
        log(`stale heartbeat: no badge after jump ${jump} (a heartbeat came in between); jumping again`);
      }
    }
    await shot(page, "16-stale-heartbeat-desktop");
    // The agent heartbeats every 10 s: the next one clears the badge.
    await page.clock.resume();
    await badge.waitFor({ state: "detached", timeout: 30_000 });
    await page.close();
  },

  /**
   * Every exec command from the composer, against the demo agent: the slash menu by keyboard,
   * steer and follow-up while it works with the queue visible, results and errors shown, and the
   * destructive ones behind a confirmation.
   */
  async controls(page, key) {
    const cwd = join(WORK, "controls");
    mkdirSync(cwd, { recursive: true });
    pizzapi("share-controls", ["share", "--demo", "--cwd", cwd, "--name", "Controls", "--demo-speed", "1"], { PIZZAPI_API_KEY: key });
    await page.goto(URL);
    await page.locator(".session-card").filter({ hasText: "Controls" }).click();
    await page.waitForURL(/\/session\/[0-9a-f-]+$/);
    await assistantText(page, "Verified:").waitFor({ timeout: 60_000 });
    await pill(page).filter({ hasText: "Idle" }).waitFor({ timeout: WAIT });
    const box = page.getByLabel("Message", { exact: true });

    // The menu: typed, completed with the keyboard.
    await box.fill("/th");
    const menu = page.getByRole("listbox", { name: "Commands" });
    await menu.getByRole("option", { name: /\/thinking/ }).waitFor();
    await shot(page, "17-slash-menu-desktop");
    await axe(page, "slash-menu");
    await box.press("Tab");
    if ((await box.inputValue()) !== "/thinking ") throw new Error(`Tab completed to ${JSON.stringify(await box.inputValue())}`);
    await box.pressSequentially("high");
    await box.press("Enter");
    await page.locator(".composer .notice").filter({ hasText: "Thinking level: high." }).waitFor({ timeout: WAIT });
    await page.locator(".session-meta").getByText("thinking high").waitFor({ timeout: WAIT });
    await box.fill("/");
    await box.press("ArrowDown");
    await box.press("Escape");
    if (await menu.isVisible()) throw new Error("Escape did not close the menu");

    await command(page, "/name Controls renamed", "Renamed the session to “Controls renamed”.");
    await page.getByRole("heading", { name: "Controls renamed" }).waitFor({ timeout: WAIT });
    await command(page, "/model", "Model: ");
    await command(page, "/model openai/gpt-5", "Model switched");
    await command(page, "/models", "4 models available.");
    await page.getByRole("dialog", { name: "/models" }).getByText("google/gemini-2.5-pro").waitFor();
    await closeDialog(page, "/models");
    await command(page, "/compact", "Compacted the conversation (12,840 tokens before).");
    await closeDialog(page, "/compact");
    await command(page, "/copy", "Copied the last answer.");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    if (!copied.startsWith("Fixed.")) throw new Error(`the clipboard holds ${JSON.stringify(copied.slice(0, 40))}`);
    await command(page, "/commands", "3 agent commands.");
    await closeDialog(page, "/commands");
    await command(page, "/mcp", "MCP status:");
    await page.getByRole("dialog", { name: "/mcp" }).getByText("demo-docs").waitFor();
    await closeDialog(page, "/mcp");
    await box.fill("/resume");
    await box.press("Enter");
    await page.getByRole("dialog", { name: "Resume a session" }).getByRole("button", { name: /Speed up the CI pipeline/ }).click();
    await page.locator(".composer .notice").filter({ hasText: "Resumed “Speed up the CI pipeline”." }).waitFor({ timeout: WAIT });
    await page.locator(".msg-user").filter({ hasText: "CI takes 25 minutes" }).waitFor({ timeout: WAIT });
    // The demo agent answers export_html as PizzaPi's does, with code unsupported: the UI says so by the code.
    await command(page, "/export", "/export is not supported by this agent.");
    await command(page, "/steering-mode all", "Steering mode set.");
    await command(page, "/steering-mode fast", "one-at-a-time");
    await command(page, "/nope", "Unknown command /nope");

    // Steer and follow-up while the agent works.
    await box.fill("Please look at the flaky test");
    await page.getByRole("button", { name: "Send" }).click();
    await pill(page).filter({ hasText: "Working" }).waitFor({ timeout: WAIT });
    await box.fill("Also check the retry loop");
    await page.getByRole("button", { name: "Steer" }).click();
    await page.getByLabel("Follow-up").check();
    await box.fill("Then summarise");
    await page.getByRole("button", { name: "Queue" }).click();
    const queue = page.getByRole("list", { name: "Queued messages" });
    await waitForText(queue, "Then summarise");
    await shot(page, "18-queued-desktop");
    await page.locator(".msg-user").filter({ hasText: "Also check the retry loop" }).waitFor({ timeout: 60_000 });
    await page.locator(".msg-user").filter({ hasText: "Then summarise" }).waitFor({ timeout: 60_000 });
    await queue.waitFor({ state: "detached", timeout: WAIT });
    await assistantText(page, "You said: “Then summarise").waitFor({ timeout: 60_000 });
    await pill(page).filter({ hasText: "Idle" }).waitFor({ timeout: 60_000 });

    // The Commands menu button, by keyboard.
    const menuButton = page.getByRole("button", { name: "Commands" });
    await menuButton.focus();
    await page.keyboard.press("ArrowDown");
    const focused = (name) => page.getByRole("menuitem", { name }).and(page.locator(":focus")).waitFor();
    await focused("New session");
    await axe(page, "commands-menu");
    await page.keyboard.press("End");
    await focused("End session");
    await page.keyboard.press("ArrowUp");
    await focused("Restart agent");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "/restart" }).waitFor();
    await page.getByRole("dialog").getByRole("button", { name: "Restart" }).click();
    await page.locator(".composer .notice").filter({ hasText: "The agent is restarting." }).waitFor({ timeout: WAIT });

    await command(page, "/new", "Started a new session.");
    await page.getByText("No messages yet.").waitFor({ timeout: WAIT });
    await box.fill("/end");
    await box.press("Enter");
    await page.getByRole("dialog", { name: "/end" }).getByRole("button", { name: "End session" }).click();
    await page.locator(".banner").filter({ hasText: "Session ended." }).waitFor({ timeout: WAIT });
    await shot(page, "19-controls-ended-desktop");
  },

  /** Sessions are grouped by runner and searchable; switching sessions keeps each one's scroll. */
  async workspace(page, everyToolURL, demoURL) {
    await page.goto(URL);
    const groups = page.locator(".runner-group .group-title");
    await waitForText(groups, "Not on a runner");
    await page.getByLabel("Search sessions").fill("every tool");
    await page.locator(".session-card").filter({ hasText: "Every tool" }).waitFor();
    if ((await page.locator(".session-card").count()) !== 1) throw new Error("the search did not filter the sessions");
    await shot(page, "21-sessions-search-desktop");
    await page.getByLabel("Search sessions").fill("");

    await page.goto(everyToolURL);
    await page.locator('.tool[data-tool="web_search"]').waitFor({ timeout: WAIT });
    const transcriptEl = page.locator(".transcript");
    await transcriptEl.evaluate((el) => (el.scrollTop = 240));
    await transcriptEl.evaluate((el) => el.dispatchEvent(new Event("scroll")));
    const before = await transcriptEl.evaluate((el) => el.scrollTop);
    await page.locator(".sidebar .session-card").filter({ hasText: "Fix the flaky reconnect test" }).click();
    await page.waitForURL(demoURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await page.locator(".sidebar .session-card").filter({ hasText: "Every tool" }).click();
    await page.locator('.tool[data-tool="web_search"]').waitFor({ timeout: WAIT });
    await page.waitForFunction((want) => Math.abs(document.querySelector(".transcript").scrollTop - want) < 2, before, { timeout: WAIT });
    log(`scroll restored to ${before}`);
  },

  /** The agent stops: the open session says so, and the ended session replays from the list. */
  async ended(page, agent, sessionURL, cwd) {
    await page.goto(sessionURL);
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await stop(agent);
    await page.locator(".banner").filter({ hasText: "Session ended." }).waitFor({ timeout: WAIT });
    await shot(page, "30-session-ended-desktop");
    await page.goto(URL);
    const row = page.locator(".rows .row").filter({ has: page.locator("code.cwd", { hasText: new RegExp(`^${cwd.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }) }).first();
    await row.waitFor({ timeout: WAIT });
    await row.click();
    await page.locator(".banner").filter({ hasText: "replay only" }).waitFor({ timeout: WAIT });
    await assistantText(page, "Verified:").waitFor({ timeout: WAIT });
    await shot(page, "31-session-replay-desktop");
  },

  /** Installable: the manifest and icons load, the service worker runs, and the shell opens offline. */
  async installable(page, context) {
    const manifest = await page.evaluate(async () => {
      const href = document.querySelector('link[rel="manifest"]')?.getAttribute("href");
      const m = await (await fetch(href)).json();
      const icons = await Promise.all(m.icons.map(async (i) => [i.src, (await fetch(i.src)).status]));
      return { name: m.name, display: m.display, icons };
    });
    if (manifest.display !== "standalone" || manifest.icons.some(([, status]) => status !== 200) || !manifest.icons.some(([src]) => src.endsWith("512.png"))) {
      throw new Error(`manifest: ${JSON.stringify(manifest)}`);
    }
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    log(`service worker active for ${scope}`);
    await page.reload();
    await page.getByRole("link", { name: /Account of/ }).waitFor();
    await context.setOffline(true);
    try {
      await page.reload();
      // Offline, the cached shell loads; without the API it asks to sign in.
      await page.getByRole("tab", { name: "Sign in" }).waitFor({ timeout: WAIT });
      await shot(page, "32-offline-shell-desktop");
    } finally {
      await context.setOffline(false);
    }
    await page.reload();
    await page.getByRole("link", { name: /Account of/ }).waitFor({ timeout: WAIT });
  },

  /** The key the agents used now has a last use. */
  async keyUsed(page) {
    await page.goto(`${URL}/account`);
    const row = page.locator(".keys-table tr").filter({ hasText: "e2e agents" });
    await row.waitFor();
    if ((await row.textContent()).includes("never")) throw new Error("the agents' key shows no last use");
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
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("tab", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.setViewportSize(phone);
    await page.getByRole("tab", { name: "Sign in" }).waitFor();
    await shot(page, "33-sign-in-phone");
  },
};

async function main() {
  mkdirSync(join(OUT, "screenshots"), { recursive: true });
  mkdirSync(join(OUT, "axe"), { recursive: true });
  const context = await chromium.launchPersistentContext(join(WORK, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: desktop,
    permissions: ["clipboard-read", "clipboard-write"],
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
    const key = await run("account: theme and API keys", () => steps.account(page));
    const cwd = join(WORK, "project");
    mkdirSync(cwd, { recursive: true });
    const agent = pizzapi("share", ["share", "--demo", "--cwd", cwd], { PIZZAPI_API_KEY: key });
    const sessionURL = await run("watch the demo agent", () => steps.watchDemo(page, cwd));
    await run("collab input and stop", () => steps.collab(page));
    await run("switch the model", () => steps.switchModel(page));
    await run("reload", () => steps.reload(page));
    await run("phone", () => steps.phone(page, sessionURL));
    const every = await run("every tool kind", () => steps.everyTool(page, key));
    await run("stale heartbeat", () => steps.stale(context, sessionURL));
    await run("controls", () => steps.controls(page, key));
    await run("workspace: groups, search, scroll", () => steps.workspace(page, every.url, sessionURL));
    await run("runner", () => steps.runner(page, key));
    await run("ended session", () => steps.ended(page, agent, sessionURL, cwd));
    await run("push notifications", () => steps.push(page, context, pushService, key));
    await run("installable", () => steps.installable(page, context));
    await run("key last used", () => steps.keyUsed(page));
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
