import type { RunnerInfo, RunnerSkill } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { Dialog } from "../ui/Dialog";
import { Link } from "../ui/Link";
import { FileExplorer } from "../workspace/Files";
import { RunnerSessions } from "./RunnersPage";

/** /runners/:id: one runner: restart it, edit its skills, see its sessions, browse its roots. */
export function RunnerPage({ runnerId }: { runnerId: string }) {
  const [runner, setRunner] = useState<RunnerInfo | null | undefined>(undefined);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [confirm, setConfirm] = useState(false);
  const [root, setRoot] = useState<string | null>(null);
  useEffect(() => {
    api.runners().then(
      (r) => setRunner(r.runners.find((x) => x.runnerId === runnerId) ?? null),
      (e: unknown) => setError(errorText(e)),
    );
  }, [runnerId]);
  const restart = async () => {
    setConfirm(false);
    setError("");
    try {
      await api.restartRunner(runnerId);
      setNotice("The runner is restarting; it reconnects in a moment.");
    } catch (e) {
      setError(errorText(e));
    }
  };
  if (runner === undefined && !error) return <p class="muted center">Loading…</p>;
  if (runner === null) {
    return (
      <div class="page">
        <h1>Runner not connected</h1>
        <p>
          This runner is not connected. <Link href="/runners">See your runners</Link>.
        </p>
      </div>
    );
  }
  return (
    <div class="page">
      <p>
        <Link href="/runners">← Runners</Link>
      </p>
      <h1>{runner?.name ?? runnerId}</h1>
      {error && <p class="error">{error}</p>}
      {notice && (
        <p class="notice notice-info" role="status">
          {notice}
        </p>
      )}
      {runner && (
        <>
          <div class="card-meta">
            {runner.roots.map((r) => (
              <button key={r} type="button" class="btn btn-small" onClick={() => setRoot(r)}>
                Browse {r}
              </button>
            ))}
            <button type="button" class="btn btn-small btn-danger" onClick={() => setConfirm(true)}>
              Restart runner
            </button>
          </div>
          <RunnerSessions runnerId={runnerId} />
          <Skills runnerId={runnerId} initial={runner.skills} />
        </>
      )}
      {confirm && (
        <Dialog title="Restart the runner?" onClose={() => setConfirm(false)}>
          <p>The runner daemon restarts; its sessions keep running.</p>
          <div class="actions">
            <button type="button" class="btn btn-danger" onClick={() => void restart()}>
              Restart
            </button>
            <button type="button" class="btn" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {root && (
        <Dialog title={`Files in ${root}`} onClose={() => setRoot(null)} wide>
          <FileExplorer runnerId={runnerId} root={root} />
        </Dialog>
      )}
    </div>
  );
}

type Editing = { mode: "create"; name: string; content: string } | { mode: "edit"; name: string; content: string } | null;

const skillTemplate = "---\nname: my-skill\ndescription: What the skill does and when to use it.\n---\n\n# My skill\n\nSteps for the agent.\n";

/** The skills editor: list, create, edit and delete the runner's skills. */
function Skills({ runnerId, initial }: { runnerId: string; initial: readonly RunnerSkill[] }) {
  const [skills, setSkills] = useState<readonly RunnerSkill[]>(initial);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.skills(runnerId).then(
      (r) => setSkills(r.skills),
      () => {},
    );
  }, [runnerId]);
  const act = async (f: () => Promise<readonly RunnerSkill[]>) => {
    setBusy(true);
    setError("");
    try {
      setSkills(await f());
      setEditing(null);
      setDeleting(null);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };
  const edit = async (name: string) => {
    setError("");
    try {
      const s = await api.skill(runnerId, name);
      setEditing({ mode: "edit", name: s.name, content: s.content });
    } catch (e) {
      setError(errorText(e));
    }
  };
  const save = (e: Event) => {
    e.preventDefault();
    const ed = editing;
    if (!ed) return;
    void act(async () =>
      ed.mode === "create"
        ? (await api.createSkill(runnerId, { name: ed.name.trim(), content: ed.content })).skills
        : (await api.updateSkill(runnerId, ed.name, { content: ed.content })).skills,
    );
  };
  return (
    <section class="skills" aria-label="Skills">
      <h2>Skills</h2>
      {error && !editing && <p class="error">{error}</p>}
      {skills.length === 0 && <p class="muted">This runner has no skills yet.</p>}
      <ul class="rows">
        {skills.map((s) => (
          <li key={s.name} class="row skill-row">
            <span class="row-title">{s.name}</span>
            <span class="muted">{s.description}</span>
            <span class="actions">
              <button type="button" class="btn btn-small" onClick={() => void edit(s.name)} aria-label={`Edit ${s.name}`}>
                Edit
              </button>
              <button type="button" class="btn btn-small btn-danger" onClick={() => setDeleting(s.name)} aria-label={`Delete ${s.name}`}>
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
      <button type="button" class="btn" onClick={() => setEditing({ mode: "create", name: "", content: skillTemplate })}>
        New skill
      </button>
      {editing && (
        <Dialog title={editing.mode === "create" ? "New skill" : `Edit ${editing.name}`} onClose={() => setEditing(null)} wide>
          <form class="skill-form" onSubmit={save}>
            {editing.mode === "create" && (
              <label>
                Name
                <input
                  required
                  pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?"
                  title="Lower-case letters, digits and dashes"
                  value={editing.name}
                  onInput={(e) => setEditing({ ...editing, name: e.currentTarget.value })}
                />
              </label>
            )}
            <label>
              SKILL.md
              <textarea rows={14} class="mono" value={editing.content} onInput={(e) => setEditing({ ...editing, content: e.currentTarget.value })} />
            </label>
            {error && <p class="error">{error}</p>}
            <div class="actions">
              <button type="submit" class="btn btn-primary" disabled={busy}>
                Save skill
              </button>
              <button type="button" class="btn" onClick={() => setEditing(null)}>
                Cancel
              </button>
            </div>
          </form>
        </Dialog>
      )}
      {deleting && (
        <Dialog title={`Delete ${deleting}?`} onClose={() => setDeleting(null)}>
          <p>The skill's folder is removed from the runner.</p>
          <div class="actions">
            <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void act(async () => (await api.deleteSkill(runnerId, deleting)).skills)}>
              Delete skill
            </button>
            <button type="button" class="btn" onClick={() => setDeleting(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
