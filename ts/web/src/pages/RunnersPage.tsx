import type { RunnerInfo, rest } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { navigate, runnerPath, sessionPath, terminalPath } from "../router";
import { liveSessions } from "../sessions";
import { parseModel, sessionTitle } from "../ui/format";
import { Link } from "../ui/Link";

const refreshMs = 5000;

/** The user's connected runners: start an agent session or open a shell terminal on one. */
export function RunnersPage() {
  const [runners, setRunners] = useState<readonly RunnerInfo[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const load = () =>
      api.runners().then(
        (r) => {
          setRunners(r.runners);
          setError("");
        },
        (e: unknown) => setError(errorText(e)),
      );
    void load();
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, []);
  return (
    <div class="page">
      <h1>Runners</h1>
      {error && <p class="error">{error}</p>}
      {runners === null && !error && <p class="muted">Loading…</p>}
      {runners?.length === 0 && (
        <p class="muted empty">
          No runner is connected. Start one on a machine with <code>pizzapi runner</code>.
        </p>
      )}
      <ul class="cards runners">
        {runners?.map((r) => (
          <li key={r.runnerId}>
            <RunnerCard runner={r} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function RunnerCard({ runner }: { runner: RunnerInfo }) {
  const [cwd, setCwd] = useState(runner.roots[0] ?? "");
  const [prompt, setPrompt] = useState("");
  const [model, setModel] = useState("");
  const [folders, setFolders] = useState<readonly string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    api.recentFolders(runner.runnerId).then(
      (r) => setFolders(r.folders),
      () => setFolders([]),
    );
  }, [runner.runnerId]);

  const act = async (run: () => Promise<string>) => {
    setBusy(true);
    setError("");
    try {
      navigate(await run());
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  const spawn = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const m = parseModel(model);
      if (m instanceof Error) throw m;
      const req: rest.SpawnRequest = { runnerId: runner.runnerId };
      if (cwd) req.cwd = cwd;
      if (prompt.trim()) req.prompt = prompt;
      if (m) req.model = m;
      return sessionPath((await api.spawn(req)).sessionId);
    });
  };

  const openTerminal = () =>
    act(async () => terminalPath((await api.terminal(cwd ? { runnerId: runner.runnerId, cwd } : { runnerId: runner.runnerId })).terminalId));

  const listId = `folders-${runner.runnerId}`;
  return (
    <form class="card runner-card" onSubmit={spawn}>
      <div class="card-title">
        <span class="dot dot-on" aria-hidden="true" />
        <Link href={runnerPath(runner.runnerId)}>{runner.name ?? runner.runnerId}</Link>
        <span class="card-state">
          {runner.sessionCount} {runner.sessionCount === 1 ? "session" : "sessions"}
        </span>
      </div>
      <div class="card-meta">
        {runner.roots.map((r) => (
          <code key={r} class="cwd">
            {r}
          </code>
        ))}
        {runner.skills.length > 0 && <span>{runner.skills.length} skills</span>}
      </div>
      <label>
        Folder
        <input value={cwd} list={listId} onInput={(e) => setCwd(e.currentTarget.value)} placeholder="runner's default" />
        <datalist id={listId}>
          {[...new Set([...runner.roots, ...folders])].map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
      </label>
      <label>
        First prompt
        <textarea rows={2} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} placeholder="What should the agent do?" />
      </label>
      <label>
        Model
        <input value={model} list="known-models" onInput={(e) => setModel(e.currentTarget.value)} placeholder="provider/model-id (optional: the agent's default)" />
        <datalist id="known-models">
          {[...new Set(liveSessions.value.flatMap((s) => (s.model ? [`${s.model.provider}/${s.model.id}`] : [])))].map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </label>
      <RunnerSessions runnerId={runner.runnerId} />
      {error && <p class="error">{error}</p>}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Start session
        </button>
        <button type="button" class="btn" disabled={busy} onClick={() => void openTerminal()}>
          Open terminal
        </button>
      </div>
    </form>
  );
}

/** The runner's live sessions, as links. */
export function RunnerSessions({ runnerId }: { runnerId: string }) {
  const mine = liveSessions.value.filter((s) => s.runnerId === runnerId);
  if (mine.length === 0) return null;
  return (
    <div class="runner-sessions">
      <h2 class="group-title">Live sessions</h2>
      <ul class="rows">
        {mine.map((s) => (
          <li key={s.sessionId}>
            <Link href={sessionPath(s.sessionId)} class="row">
              <span class="row-title">
                <span class={`dot ${s.isActive ? "dot-on" : "dot-off"}`} aria-hidden="true" /> {sessionTitle(s.sessionName, s.cwd)}
                <span class="sr-only">{s.isActive ? " (working)" : " (idle)"}</span>
              </span>
              <code class="cwd">{s.cwd}</code>
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
