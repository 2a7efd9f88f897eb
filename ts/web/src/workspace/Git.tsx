import type { rest } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { PatchView } from "../ui/DiffView";

const statusWords: Record<string, string> = { M: "modified", A: "added", D: "deleted", R: "renamed", C: "copied", "?": "untracked", U: "conflict" };

/** The words for a porcelain status ("M ", " M", "??"). */
export function describeStatus(status: string): string {
  const words = [...new Set([...status.replace(/ /g, "")].map((c) => statusWords[c] ?? c))];
  return words.join(", ") || "changed";
}

/** git status of cwd on the runner, and the diff of a file on demand. */
export function GitPanel({ runnerId, cwd }: { runnerId: string; cwd: string }) {
  const [status, setStatus] = useState<rest.GitStatusResponse | null>(null);
  const [error, setError] = useState("");
  const [diff, setDiff] = useState<{ path: string; patch: string } | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setError("");
    api.gitStatus(runnerId, { cwd }).then(
      (r) => live && setStatus(r),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [runnerId, cwd, version]);

  const show = async (c: rest.GitChange) => {
    try {
      const staged = c.status[0] !== " " && c.status[0] !== "?" && c.status[1] === " ";
      const r = await api.gitDiff(runnerId, { cwd, path: c.path, staged });
      setDiff({ path: c.path, patch: r.diff });
    } catch (e) {
      setError(errorText(e));
    }
  };

  if (diff) {
    return (
      <div class="git-diff">
        <div class="panel-bar">
          <button type="button" class="btn btn-small" onClick={() => setDiff(null)}>
            ← Changes
          </button>
          <code class="cwd">{diff.path}</code>
        </div>
        <PatchView patch={diff.patch} label={`Diff of ${diff.path}`} />
      </div>
    );
  }
  return (
    <div class="git">
      <div class="panel-bar">
        {status && (
          <span>
            On <strong>{status.branch || "(no branch)"}</strong>
            {status.ahead > 0 && ` · ${status.ahead} ahead`}
            {status.behind > 0 && ` · ${status.behind} behind`}
          </span>
        )}
        <button type="button" class="btn btn-small" onClick={() => setVersion(version + 1)}>
          Refresh
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      {!status && !error && <p class="muted">Loading…</p>}
      {status?.changes.length === 0 && <p class="muted">No changes.</p>}
      <ul class="file-list" aria-label="Changed files">
        {status?.changes.map((c) => (
          <li key={c.path}>
            <button type="button" class="file-entry" onClick={() => void show(c)}>
              <span class={`git-status git-${c.status.trim()[0] ?? "M"}`}>{c.status.trim() || "M"}</span> {c.path}
              <span class="sr-only"> ({describeStatus(c.status)})</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
