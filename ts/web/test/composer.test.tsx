// @vitest-environment jsdom
// The composer and the question card in a DOM, driven as a keyboard user would, against a fake
// session view that records what would go to the agent.
import { signal } from "@preact/signals";
import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Composer } from "../src/session/Composer";
import { ViewContext } from "../src/session/context";
import { ToolCard } from "../src/session/Message";
import { initialState, type SessionState } from "../src/session/state";
import type { ExecOutcome, Phase, Queued, SessionView } from "../src/session/viewer";

beforeAll(() => {
  // jsdom has <dialog> without the modal part.
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.removeAttribute("open");
  };
});

function fakeView(results: Record<string, ExecOutcome>) {
  const sent: unknown[][] = [];
  const execs: [string, Readonly<Record<string, unknown>>][] = [];
  const state = signal<SessionState>({ ...initialState, commands: [{ name: "review", description: "Review the changes" }] });
  const view: SessionView = {
    state,
    phase: signal<Phase>({ kind: "live" }),
    queued: signal<readonly Queued[]>([]),
    heartbeatAt: signal<number | null>(null),
    send: async (...args) => {
      sent.push(args);
      return true;
    },
    exec: async (request) => {
      const { command, ...params } = request;
      execs.push([command, params]);
      // What the test scripted for the command, typed as any command's outcome.
      return (results[command] ?? { ok: true, result: null }) as ExecOutcome<never>;
    },
    notify: (n) => {
      state.value = { ...state.value, notice: n };
    },
    abort: async () => true,
    setModel: async () => true,
    reopen: () => {},
    close: () => {},
  };
  return { view, sent, execs, state };
}

let root: HTMLElement;
afterEach(() => {
  render(null, root);
  root.remove();
});

async function mount(ui: preact.ComponentChild) {
  root = document.createElement("div");
  document.body.append(root);
  await act(() => render(ui, root));
}

async function type(el: HTMLTextAreaElement | HTMLInputElement, text: string) {
  await act(() => {
    el.value = text;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

async function key(el: Element, k: string) {
  await act(async () => {
    el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
  });
}

const textarea = () => root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;

describe("Composer", () => {
  it("opens the slash menu, moves with the arrows, completes with Tab and runs with Enter", async () => {
    const f = fakeView({ set_thinking_level: { ok: true, result: { thinkingLevel: "high" } } });
    await mount(<Composer sessionId="s" view={f.view} state={f.state.value} />);
    await type(textarea(), "/t");
    const options = () => [...root.querySelectorAll('[role="option"]')].map((o) => o.querySelector(".slash-name")?.textContent);
    expect(options()[0]).toBe("/thinking");
    expect(options()).toContain("/restart");
    const active = () => root.querySelector(`#${textarea().getAttribute("aria-activedescendant")}`)?.querySelector(".slash-name")?.textContent;
    expect(active()).toBe("/thinking");
    await key(textarea(), "ArrowDown");
    expect(active()).toBe(options()[1]);
    await key(textarea(), "ArrowUp");
    expect(active()).toBe("/thinking");
    await key(textarea(), "Tab");
    expect(textarea().value).toBe("/thinking ");
    await type(textarea(), "/thinking high");
    await key(textarea(), "Enter");
    expect(f.execs).toEqual([["set_thinking_level", { level: "high" }]]);
  });

  it("lists the previous sessions for /resume and resumes the one picked", async () => {
    const f = fakeView({
      list_resume_sessions: {
        ok: true,
        result: {
          currentPath: "/s/now.jsonl",
          sessions: [
            { id: "1", path: "/s/now.jsonl", name: "current", modified: "today", firstMessage: "" },
            { id: "2", path: "/s/old.jsonl", name: "the auth bug", modified: "yesterday", firstMessage: "fix auth" },
          ],
        },
      },
    });
    await mount(<Composer sessionId="s" view={f.view} state={f.state.value} />);
    await type(textarea(), "/resume");
    await key(textarea(), "Enter");
    const dialog = root.querySelector("dialog")!;
    expect(dialog.getAttribute("aria-label")).toBe("Resume a session");
    const buttons = [...dialog.querySelectorAll<HTMLButtonElement>(".resume-list button")];
    expect(buttons.map((b) => b.disabled)).toEqual([true, false]);
    await act(async () => {
      buttons[1]!.click();
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(f.execs).toEqual([
      ["list_resume_sessions", {}],
      ["resume_session", { sessionPath: "/s/old.jsonl" }],
    ]);
    expect(f.state.value.notice).toEqual({ text: "Resumed the session.", tone: "info" });
  });

  it("asks before ending the session, and shows a refusal", async () => {
    const f = fakeView({ end_session: { ok: false, error: "collab mode is off" } });
    await mount(<Composer sessionId="s" view={f.view} state={f.state.value} />);
    await type(textarea(), "/end");
    await key(textarea(), "Enter");
    expect(f.execs).toEqual([]);
    const confirm = [...root.querySelectorAll<HTMLButtonElement>("dialog button")].find((b) => b.textContent === "End session")!;
    await act(async () => {
      confirm.click();
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(f.execs).toEqual([["end_session", {}]]);
    expect(f.state.value.notice).toEqual({ text: "/end failed: collab mode is off", tone: "error" });
  });

  it("says a command is not supported by its code, whatever the agent's text", async () => {
    const f = fakeView({ new_session: { ok: false, code: "unsupported", error: "Unknown exec command: new_session" } });
    await mount(<Composer sessionId="s" view={f.view} state={f.state.value} />);
    await type(textarea(), "/new");
    await key(textarea(), "Enter");
    expect(f.execs).toEqual([["new_session", {}]]);
    expect(f.state.value.notice).toEqual({ text: "/new is not supported by this agent.", tone: "error" });
  });

  it("sends an agent command as a message, and steers while the agent works", async () => {
    const f = fakeView({});
    await mount(<Composer sessionId="s" view={f.view} state={{ ...f.state.value, active: true }} />);
    await type(textarea(), "/review the auth code");
    await key(textarea(), "Enter");
    expect(f.sent).toEqual([["/review the auth code", [], "steer"]]);
  });
});

describe("question card", () => {
  it("answers the agent's question with an option or free text", async () => {
    const f = fakeView({});
    const args = { question: "Which database?", options: ["SQLite", { label: "PostgreSQL" }] };
    await mount(
      <ViewContext.Provider value={f.view}>
        <ToolCard id="q1" name="AskUserQuestion" args={args} run={undefined} />
      </ViewContext.Provider>,
    );
    expect(root.querySelector(".question-text")?.textContent).toBe("Which database?");
    const option = [...root.querySelectorAll<HTMLButtonElement>(".question-options button")].find((b) => b.textContent === "PostgreSQL")!;
    await act(async () => {
      option.click();
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(f.sent).toEqual([["PostgreSQL", []]]);
    expect(root.querySelector(".question-answer")?.textContent).toBe("Answer sent: PostgreSQL");
  });

  it("shows the answer once the tool has its result", async () => {
    const f = fakeView({});
    await mount(
      <ViewContext.Provider value={f.view}>
        <ToolCard id="q1" name="AskUserQuestion" args={{ question: "Which database?" }} run={{ name: "AskUserQuestion", args: {}, state: "done", output: "SQLite", images: [] }} />
      </ViewContext.Provider>,
    );
    expect(root.querySelector(".question-options")).toBeNull();
    expect(root.querySelector(".question-answer")?.textContent).toBe("Answer: SQLite");
  });
});
