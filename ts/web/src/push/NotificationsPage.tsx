import type { rest } from "@pizzapi/protocol";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import "./push.css";
import { currentSubscription, decodeKinds, defaultKinds, disable, enable, forget, kinds, listSubscriptions, setKinds, unsupported } from "./push";

/**
 * Notification settings: turn Web Push on or off for this device, choose the kinds, and see and
 * remove the devices that receive them. What is shown comes from the browser's subscription and
 * the relay's records, so it survives reloads.
 */
export function NotificationsPage() {
  const why = unsupported();
  const [sub, setSub] = useState<PushSubscription | null | undefined>(why ? null : undefined);
  const [records, setRecords] = useState<readonly rest.PushSubscriptionInfo[]>([]);
  const [chosen, setChosen] = useState<readonly rest.PushKind[]>(defaultKinds);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  const refresh = async () => {
    const [s, list] = await Promise.all([why ? Promise.resolve(null) : currentSubscription(), listSubscriptions()]);
    const mine = s && list.subscriptions.find((r) => r.endpoint === s.endpoint);
    setSub(mine ? s : null);
    setRecords(list.subscriptions);
    if (mine) setChosen(decodeKinds(mine.enabledEvents));
  };
  useEffect(() => {
    refresh().catch((e: unknown) => {
      setSub(null);
      setError(errorText(e));
    });
  }, []);

  const act = (what: () => Promise<void>, done: string) => {
    setBusy(true);
    setError("");
    setStatus("");
    what()
      .then(refresh)
      .then(
        () => setStatus(done),
        (e: unknown) => setError(errorText(e)),
      )
      .finally(() => setBusy(false));
  };
  const toggle = (kind: rest.PushKind, on: boolean) => {
    const next = kinds.map((k) => k.kind).filter((k) => (k === kind ? on : chosen.includes(k)));
    setChosen(next);
    if (sub && next.length > 0) act(() => setKinds(sub.endpoint, next), "Saved.");
  };
  const denied = !why && Notification.permission === "denied";
  const host = (endpoint: string) => {
    try {
      return new URL(endpoint).host;
    } catch {
      return endpoint;
    }
  };

  return (
    <div class="page notifications">
      <h1>Notifications</h1>
      <p class="muted">Get a notification on this device when something happens in a session that nobody is watching.</p>
      {why && <p class="error">{why}</p>}
      {denied && <p class="error">Notifications are blocked for this site. Allow them in the browser's site settings, then reload.</p>}
      {sub === undefined && <p class="muted">Loading…</p>}
      {sub !== undefined && !why && (
        <p class="push-state" role="status">
          {sub ? "Notifications are on for this device." : "Notifications are off for this device."}
        </p>
      )}
      <fieldset class="push-kinds" disabled={busy || Boolean(why)}>
        <legend>Notify me when</legend>
        {kinds.map((k) => (
          <label key={k.kind} class="check">
            <input type="checkbox" name={k.kind} checked={chosen.includes(k.kind)} onChange={(e) => toggle(k.kind, e.currentTarget.checked)} /> {k.label}
          </label>
        ))}
        {chosen.length === 0 && <p class="muted">Choose at least one, or turn notifications off.</p>}
      </fieldset>
      <div class="actions">
        {sub ? (
          <button type="button" class="btn" disabled={busy} onClick={() => act(disable, "Notifications turned off.")}>
            Turn off notifications
          </button>
        ) : (
          <button
            type="button"
            class="btn btn-primary"
            disabled={busy || Boolean(why) || denied || sub === undefined || chosen.length === 0}
            onClick={() => act(() => enable(chosen).then(() => undefined), "Notifications turned on.")}
          >
            Turn on notifications
          </button>
        )}
      </div>
      {status && <p class="muted">{status}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h2>Devices that get notifications</h2>
      {records.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="rows push-devices">
          {records.map((r) => {
            const here = sub?.endpoint === r.endpoint;
            return (
              <li key={r.id} class="row">
                <span class="row-title">
                  {here ? "This device" : "Another device"} <span class="muted">via {host(r.endpoint)}</span>
                </span>
                <span class="muted">
                  since {new Date(r.createdAt).toLocaleDateString()} · {r.enabledEvents === "*" ? "everything" : decodeKinds(r.enabledEvents).length + " kinds"}
                </span>
                <button
                  type="button"
                  class="btn btn-quiet"
                  disabled={busy}
                  aria-label={here ? "Remove this device" : `Remove the device via ${host(r.endpoint)}`}
                  onClick={() => act(() => (here ? disable() : forget(r.endpoint)), "Device removed.")}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
