// xterm.js bound to a /terminal socket. This module (and xterm.js with its CSS) is a chunk of its
// own, loaded only when a terminal page opens.

import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import type { TerminalStatus } from "../pages/TerminalPage";
import type { TerminalSocket } from "../sockets";

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(data: string): Uint8Array {
  return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
}

/**
 * Opens a terminal in el: on `terminal_connected` it sends the fitted size (which starts the PTY),
 * then keystrokes go out as base64 `terminal_input`, output comes in as base64 `terminal_data`, and
 * window resizes refit and resize the PTY. Returns the function that tears it down.
 */
export function attachTerminal(el: HTMLElement, socket: TerminalSocket, onStatus: (s: TerminalStatus) => void): () => void {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace',
    fontSize: 14,
    theme: { background: "#111418" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  fit.fit();
  const encoder = new TextEncoder();
  let attached = false;

  socket.on("terminal_connected", () => {
    attached = true;
    fit.fit();
    socket.emit("terminal_resize", { cols: term.cols, rows: term.rows });
    onStatus({ kind: "starting" });
    term.focus();
  });
  socket.on("terminal_ready", () => onStatus({ kind: "running" }));
  socket.on("terminal_data", ({ data }) => term.write(fromBase64(data)));
  socket.on("terminal_exit", ({ exitCode }) => onStatus({ kind: "exited", code: exitCode }));
  socket.on("terminal_error", ({ message }) => onStatus({ kind: "error", message }));
  socket.on("disconnect", () => {
    attached = false;
  });

  const input = term.onData((d) => socket.emit("terminal_input", { data: toBase64(encoder.encode(d)) }));
  const resized = term.onResize(({ cols, rows }) => {
    if (attached) socket.emit("terminal_resize", { cols, rows });
  });
  const refit = () => fit.fit();
  addEventListener("resize", refit);
  return () => {
    removeEventListener("resize", refit);
    input.dispose();
    resized.dispose();
    term.dispose();
  };
}
