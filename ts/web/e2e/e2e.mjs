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
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
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
    await run("sign out", () => steps.signOut(page));
    if (pageErrors.length > 0) throw new Error(`uncaught errors in the page:\n${pageErrors.join("\n")}`);
  } catch (e) {
    await page.screenshot({ path: join(OUT, "screenshots", "failure.png") }).catch(() => {});
    writeFileSync(join(OUT, "failure.html"), await page.content().catch(() => ""));
    throw new Error(`step "${step}": ${e.message}`);
  } finally {
    await context.close();
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
