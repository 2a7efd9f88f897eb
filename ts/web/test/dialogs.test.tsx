// @vitest-environment jsdom
// Extension dialogs: opened by extension_ui_request, closed by extension_ui_response, answered
// from the card with the extension_ui_response command.
import { signal } from "@preact/signals";
import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { Dialogs } from "../src/session/Dialogs";
import { applyEvent, initialState, type SessionState } from "../src/session/state";
import type { ExecOutcome, Phase, Queued, SessionView } from "../src/session/viewer";

const confirm = { type: "extension_ui_request", id: "d1", method: "confirm", title: "Proceed?", message: "This renames the session." };
const select = { type: "extension_ui_request", id: "d2", method: "select", title: "Which branch?", options: ["main", "dev"], timeout: 10000 };

describe("dialog state", () => {
  it("opens dialogs and closes them on the published answer", () => {
    let s = applyEvent(initialState, confirm);
    s = applyEvent(s, select);
    s = applyEvent(s, { type: "extension_ui_request", id: "n1", method: "notify", message: "hello" });
    s = applyEvent(s, confirm); // a repeated request opens nothing more
    expect(s.dialogs.map((d) => [d.id, d.method, d.title])).toEqual([
      ["d1", "confirm", "Proceed?"],
      ["d2", "select", "Which branch?"],
    ]);
    expect(s.dialogs[0]!.message).toBe("This renames the session.");
    expect(s.dialogs[1]!.options).toEqual(["main", "dev"]);
    s = applyEvent(s, { type: "extension_ui_response", id: "d1", confirmed: true, reason: "answered" });
    expect(s.dialogs.map((d) => d.id)).toEqual(["d2"]);
  });
});

function fakeView(state: SessionState) {
  const execs: [string, Readonly<Record<string, unknown>>][] = [];
  const view: SessionView = {
    state: signal(state),
    phase: signal<Phase>({ kind: "live" }),
    queued: signal<readonly Queued[]>([]),
    heartbeatAt: signal<number | null>(null),
    send: async () => true,
    exec: async ({ command, ...params }) => {
      execs.push([command, params]);
      return { ok: true, result: undefined } as ExecOutcome<never>;
    },
    notify: () => {},
    abort: async () => true,
    setModel: async () => true,
    reopen: () => {},
    close: () => {},
  };
  return { view, execs };
}

let root: HTMLElement | undefined;
afterEach(() => {
  if (!root) return;
  render(null, root);
  root.remove();
  root = undefined;
});

async function mount(state: SessionState) {
  const { view, execs } = fakeView(state);
  const el = document.createElement("div");
  root = el;
  document.body.append(el);
  await act(() => render(<Dialogs view={view} state={state} />, el));
  return execs;
}

async function click(label: string) {
  const button = [...root!.querySelectorAll("button")].find((b) => b.textContent === label)!;
  await act(async () => {
    button.click();
    await new Promise((r) => setTimeout(r, 0));
  });
}

describe("Dialogs", () => {
  it("answers a confirmation, a choice and a text", async () => {
    let s = applyEvent(applyEvent(initialState, confirm), select);
    s = applyEvent(s, { type: "extension_ui_request", id: "d3", method: "input", title: "Name?", placeholder: "a name" });
    const execs = await mount(s);
    await click("Yes");
    await click("dev");
    const input = root!.querySelector<HTMLInputElement>('input[aria-label="Your answer"]')!;
    expect(input.placeholder).toBe("a name");
    await act(() => {
      input.value = "Ada";
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await act(async () => {
      root!.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(execs).toEqual([
      ["extension_ui_response", { requestId: "d1", confirmed: true }],
      ["extension_ui_response", { requestId: "d2", value: "dev" }],
      ["extension_ui_response", { requestId: "d3", value: "Ada" }],
    ]);
  });

  it("leaves AskUserQuestion's input to its question card", async () => {
    let s = applyEvent(initialState, { type: "extension_ui_request", id: "q", method: "input", title: "Which database?" });
    s = { ...s, pendingQuestion: { toolCallId: "t1", question: "Which database?", options: [] } };
    await mount(s);
    expect(root!.textContent).toBe("");
  });
});
