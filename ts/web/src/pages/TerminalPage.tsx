import { useEffect, useRef, useState } from "preact/hooks";
import { connectTerminal, type TerminalSocket } from "../sockets";

export type TerminalStatus =
  | { readonly kind: "loading" }
  | { readonly kind: "connecting" }
  | { readonly kind: "starting" }
  | { readonly kind: "running" }
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "error"; readonly message: string };

function describe(s: TerminalStatus): string {
  switch (s.kind) {
    case "loading":
      return "Loading the terminal…";
    case "connecting":
      return "Connecting…";
    case "starting":
      return "Starting the shell…";
    case "running":
      return "Running";
    case "exited":
      return `The shell exited with code ${s.code}.`;
    case "error":
      return s.message;
  }
}

/** /terminal/:id: a shell on a runner, full page. */
export function TerminalPage({ terminalId }: { terminalId: string }) {
  return (
    <div class="terminal-page">
      <TerminalView terminalId={terminalId} />
    </div>
  );
}

/** A shell on a runner in xterm.js (loaded on demand, with its own chunk), with its status and Kill. */
export function TerminalView({ terminalId }: { terminalId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const socket = useRef<TerminalSocket | null>(null);
  const [status, setStatus] = useState<TerminalStatus>({ kind: "loading" });
  useEffect(() => {
    let stop = () => {};
    let left = false;
    import("../terminal/term").then(
      ({ attachTerminal }) => {
        if (left || !host.current) return;
        const conn = connectTerminal(terminalId);
        socket.current = conn.socket;
        setStatus({ kind: "connecting" });
        const detach = attachTerminal(host.current, conn.socket, setStatus);
        stop = () => {
          detach();
          conn.close();
        };
      },
      () => setStatus({ kind: "error", message: "The terminal could not be loaded." }),
    );
    return () => {
      left = true;
      stop();
    };
  }, [terminalId]);
  const live = status.kind === "starting" || status.kind === "running";
  return (
    <div class="terminal-view">
      <div class="terminal-bar">
        <span class={`pill ${status.kind === "error" ? "pill-bad" : live ? "pill-busy" : "pill-idle"}`}>{describe(status)}</span>
        <button type="button" class="btn btn-small" disabled={!live} onClick={() => socket.current?.emit("kill_terminal", {})}>
          Kill
        </button>
      </div>
      <div class="terminal-host" ref={host} />
    </div>
  );
}
