import type { rest } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { signOut } from "../auth";
import { setTheme, theme, type Theme } from "../theme";
import { Dialog } from "../ui/Dialog";
import { ago } from "../ui/format";
import { Link } from "../ui/Link";

/** /account: API keys, the colour theme, and the way to notifications and signing out (phones). */
export function AccountPage() {
  return (
    <div class="page">
      <h1>Account</h1>
      <ThemePicker />
      <APIKeys />
      <p class="account-actions actions">
        <Link href="/notifications" class="btn">
          Notification settings
        </Link>
        <button type="button" class="btn" onClick={() => signOut().catch((e: unknown) => alert(errorText(e)))}>
          Sign out of this browser
        </button>
      </p>
    </div>
  );
}

const themes: [Theme, string][] = [
  ["system", "System"],
  ["light", "Light"],
  ["dark", "Dark"],
];

function ThemePicker() {
  return (
    <fieldset class="card theme-picker">
      <legend>Theme</legend>
      {themes.map(([t, label]) => (
        <label key={t} class="radio">
          <input type="radio" name="theme" value={t} checked={theme.value === t} onChange={() => setTheme(t)} /> {label}
        </label>
      ))}
    </fieldset>
  );
}

function APIKeys() {
  const [keys, setKeys] = useState<rest.APIKey[] | null>(null);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<rest.APIKey | null>(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const load = () =>
    api.apiKeys().then(
      (k) => setKeys(k),
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const k = await api.createAPIKey(name.trim() ? { name: name.trim() } : {});
      setCreated(k.key);
      setCopied(false);
      setName("");
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async (k: rest.APIKey) => {
    setDeleting(null);
    setError("");
    try {
      await api.deleteAPIKey({ keyId: k.id });
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="card api-keys" aria-label="API keys">
      <h2>API keys</h2>
      <p class="muted">
        Keys let <code>pizzapi share</code>, <code>pizzapi runner</code> and scripts act as you (the <code>x-api-key</code> header, or{" "}
        <code>PIZZAPI_API_KEY</code>). A key is shown once, when it is created.
      </p>
      <form class="inline-form" onSubmit={create}>
        <label>
          Name of a new key
          <input value={name} maxLength={100} placeholder="laptop" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-primary">
          Create key
        </button>
      </form>
      {created && (
        <div class="new-key" role="status">
          <p>Your new key (copy it now: it is not shown again):</p>
          <code class="key">{created}</code>
          <button
            type="button"
            class="btn btn-small"
            onClick={() =>
              navigator.clipboard.writeText(created).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
      )}
      {error && <p class="error">{error}</p>}
      {keys === null && !error && <p class="muted">Loading…</p>}
      {keys?.length === 0 && <p class="muted">No keys.</p>}
      {keys && keys.length > 0 && (
        <table class="keys-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name ?? <span class="muted">(no name)</span>}</td>
                <td>
                  <code>{k.start ? `${k.start}…` : "…"}</code>
                </td>
                <td>
                  <time dateTime={k.createdAt}>{ago(k.createdAt)}</time>
                </td>
                <td>{k.lastRequest ? <time dateTime={k.lastRequest}>{ago(k.lastRequest)}</time> : <span class="muted">never</span>}</td>
                <td>
                  <button type="button" class="btn btn-small btn-danger" aria-label={`Delete key ${k.name ?? k.start ?? k.id}`} onClick={() => setDeleting(k)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting && (
        <Dialog title="Delete this key?" onClose={() => setDeleting(null)}>
          <p>
            Whatever uses <code>{deleting.start}…</code> ({deleting.name ?? "no name"}) stops working at once.
          </p>
          <div class="actions">
            <button type="button" class="btn btn-danger" onClick={() => void remove(deleting)}>
              Delete key
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
