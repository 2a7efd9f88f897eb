// Web Push in the browser: the service worker's subscription for this device, and the relay's
// record of it (POST /api/push/subscribe and the rest of PizzaPi's push endpoints). Permission is
// asked for only from a click (enable), as browsers require.

import type { rest } from "@pizzapi/protocol";

/** The kinds of notification, with what the settings call them. */
export const kinds: readonly { readonly kind: rest.PushKind; readonly label: string }[] = [
  { kind: "agent_finished", label: "An agent finished its turn" },
  { kind: "agent_needs_input", label: "An agent asks a question" },
  { kind: "agent_error", label: "An agent failed" },
  { kind: "session_started", label: "A session started" },
  { kind: "session_ended", label: "A session ended" },
];

/** The kinds a new subscription receives: what PizzaPi notifies about. */
export const defaultKinds: readonly rest.PushKind[] = ["agent_finished", "agent_needs_input", "agent_error"];

/** The enabledEvents value for a choice of kinds: "*" when it is all of them. */
export function encodeKinds(chosen: readonly rest.PushKind[]): string {
  const ordered = kinds.map((k) => k.kind).filter((k) => chosen.includes(k));
  return ordered.length === kinds.length ? "*" : ordered.join(",");
}

/** The kinds an enabledEvents value names. */
export function decodeKinds(enabledEvents: string): rest.PushKind[] {
  if (enabledEvents.trim() === "*") return kinds.map((k) => k.kind);
  const named = enabledEvents.split(",").map((s) => s.trim());
  return kinds.map((k) => k.kind).filter((k) => named.includes(k));
}

/** The bytes of URL-safe base64 (padded or not), as PushManager.subscribe wants its key. */
export function base64UrlBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Why push cannot work in this browser, or "" when it can. */
export function unsupported(): string {
  if (!isSecureContext) return "Notifications need the relay to be served over https.";
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return "This browser does not support push notifications.";
  }
  return "";
}

/** The app's service worker registration (registering it when needed). */
async function worker(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  return navigator.serviceWorker.ready;
}

/** This device's push subscription, or null. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  return (await worker()).pushManager.getSubscription();
}

class PushError extends Error {}

async function call<T>(method: string, path: string, body?: object): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin" };
  if (body) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(path, init);
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const msg = data && typeof data === "object" && "error" in data && typeof data.error === "string" ? data.error : `${res.status} ${res.statusText}`;
    throw new PushError(msg);
  }
  return data as T;
}

/** The relay's records of the user's subscriptions. */
export function listSubscriptions(): Promise<rest.PushSubscriptionsResponse> {
  return call("GET", "/api/push/subscriptions");
}

/**
 * Turns notifications on for this device: asks for permission (call it from a click), subscribes
 * with the relay's key and registers the subscription with the relay for the chosen kinds.
 */
export async function enable(chosen: readonly rest.PushKind[]): Promise<PushSubscription> {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new PushError(permission === "denied" ? "Notifications are blocked for this site in the browser's settings." : "Notifications were not allowed.");
  }
  const reg = await worker();
  const { publicKey } = await call<rest.PushPublicKeyResponse>("GET", "/api/push/vapid-public-key");
  const key = base64UrlBytes(publicKey);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub, key)) {
    // Subscribed with another key (the relay's keys changed): start again.
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const json = sub.toJSON();
  try {
    await call<rest.PushSubscribeResponse>("POST", "/api/push/subscribe", {
      endpoint: sub.endpoint,
      keys: { p256dh: json.keys?.["p256dh"] ?? "", auth: json.keys?.["auth"] ?? "" },
      enabledEvents: encodeKinds(chosen),
    } satisfies rest.PushSubscribeRequest);
  } catch (e) {
    await sub.unsubscribe().catch(() => false);
    throw e;
  }
  return sub;
}

function sameKey(sub: PushSubscription, key: Uint8Array): boolean {
  const k = sub.options.applicationServerKey;
  if (!k) return true;
  const have = new Uint8Array(k);
  return have.length === key.length && have.every((b, i) => b === key[i]);
}

/** Turns notifications off for this device: the relay forgets it and the browser unsubscribes. */
export async function disable(): Promise<void> {
  const sub = await currentSubscription();
  if (!sub) return;
  await forget(sub.endpoint);
  await sub.unsubscribe();
}

/** Makes the relay forget a subscription (of this device or another). */
export async function forget(endpoint: string): Promise<void> {
  await call<rest.OkResponse>("POST", "/api/push/unsubscribe", { endpoint } satisfies rest.PushUnsubscribeRequest);
}

/** Changes the kinds this device's subscription receives. */
export async function setKinds(endpoint: string, chosen: readonly rest.PushKind[]): Promise<void> {
  await call<rest.OkResponse>("PUT", "/api/push/events", { endpoint, enabledEvents: encodeKinds(chosen) } satisfies rest.PushEventsRequest);
}
