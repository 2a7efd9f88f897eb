import type { rest } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { CodeView } from "../ui/CodeView";

const imageTypes: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", bmp: "image/bmp", ico: "image/x-icon" };

/** The image type of a path, or null when it is not an image the viewer shows. */
export function imageType(path: string): string | null {
  const ext = path.split(".").pop()?.toLowerCase() ?? "";
  return imageTypes[ext] ?? null;
}

/** The folder above a path, never above root. */
export function parentOf(path: string, root: string): string {
  if (path === root || !path.startsWith(root)) return root;
  const up = path.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
  return up.length < root.length ? root : up || "/";
}

type Opened = { path: string; kind: "text"; content: string; truncated: boolean } | { path: string; kind: "image"; src: string } | { path: string; kind: "error"; message: string };

/**
 * A file explorer on a runner, starting at root: folders to walk, files shown highlighted with
 * line numbers, images shown as images. The runner confines every path to its roots.
 */
export function FileExplorer({ runnerId, root }: { runnerId: string; root: string }) {
  const [dir, setDir] = useState(root);
  const [entries, setEntries] = useState<readonly rest.FileEntry[] | null>(null);
  const [error, setError] = useState("");
  const [opened, setOpened] = useState<Opened | null>(null);
  useEffect(() => {
    let live = true;
    setEntries(null);
    setError("");
    api.files(runnerId, { path: dir }).then(
      (r) => live && setEntries(r.files),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [runnerId, dir]);

  const open = async (path: string) => {
    const type = imageType(path);
    try {
      if (type) {
        const r = await api.readFile(runnerId, { path, encoding: "base64" });
        setOpened({ path, kind: "image", src: `data:${type};base64,${r.content}` });
      } else {
        const r = await api.readFile(runnerId, { path });
        setOpened({ path, kind: "text", content: r.content, truncated: r.truncated });
      }
    } catch (e) {
      setOpened({ path, kind: "error", message: errorText(e) });
    }
  };

  if (opened) {
    return (
      <div class="file-view">
        <div class="panel-bar">
          <button type="button" class="btn btn-small" onClick={() => setOpened(null)}>
            ← Files
          </button>
          <code class="cwd">{opened.path}</code>
        </div>
        {opened.kind === "text" && (
          <>
            {opened.truncated && <p class="muted">The file is long: only its beginning is shown.</p>}
            <CodeView code={opened.content} path={opened.path} />
          </>
        )}
        {opened.kind === "image" && <img class="file-image" src={opened.src} alt={opened.path} />}
        {opened.kind === "error" && <p class="error">{opened.message}</p>}
      </div>
    );
  }
  return (
    <div class="files">
      <div class="panel-bar">
        <button type="button" class="btn btn-small" disabled={dir === root} onClick={() => setDir(parentOf(dir, root))} aria-label="Up one folder">
          ↑
        </button>
        <code class="cwd">{dir}</code>
      </div>
      {error && <p class="error">{error}</p>}
      {!entries && !error && <p class="muted">Loading…</p>}
      {entries?.length === 0 && <p class="muted">This folder is empty.</p>}
      <ul class="file-list" aria-label={`Files in ${dir}`}>
        {entries?.map((f) => (
          <li key={f.path}>
            <button type="button" class="file-entry" onClick={() => (f.isDirectory ? setDir(f.path) : void open(f.path))}>
              <span aria-hidden="true">{f.isDirectory ? "📁" : "📄"}</span> {f.name}
              {f.isDirectory && <span class="sr-only"> (folder)</span>}
              {!f.isDirectory && f.size !== undefined && <span class="muted file-size">{f.size.toLocaleString()} B</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
