// Web Push in pizzapi's service worker (loaded by sw.js with importScripts). The relay sends a
// notification when an agent nobody is watching finishes, asks something or fails, or when a
// session starts or ends; its JSON is the schema's PushNotification:
// {type, title, body, sessionId, sessionName?, url}. A notification replaces an older one of the
// same kind and session (its tag); clicking it focuses an open pizzapi tab on that session (or
// tells another open tab to show it) or opens the session in a new one.

/** The title and options of the notification for a push message's payload. */
function pizzapiNotification(payload) {
  const type = typeof payload.type === "string" ? payload.type : "notification";
  const sessionId = typeof payload.sessionId === "string" ? payload.sessionId : "";
  return {
    title: typeof payload.title === "string" && payload.title ? payload.title : "pizzapi",
    options: {
      body: typeof payload.body === "string" ? payload.body : "",
      icon: "/favicon.svg",
      badge: "/favicon.svg",
      tag: sessionId ? `pizzapi-${type}-${sessionId}` : `pizzapi-${type}`,
      renotify: true,
      data: { type, sessionId, url: pizzapiTarget(payload) },
    },
  };
}

/** The page of this app a notification opens: its session's page, on this origin only. */
function pizzapiTarget(payload) {
  const here = self.location.origin;
  if (typeof payload.url === "string") {
    try {
      const url = new URL(payload.url, here);
      if (url.origin === here) return url.pathname;
    } catch {
      // not a URL: fall back to the session id
    }
  }
  return typeof payload.sessionId === "string" && payload.sessionId ? `/session/${encodeURIComponent(payload.sessionId)}` : "/";
}

self.addEventListener("push", (event) => {
  if (!event.data) return;
  let payload;
  try {
    payload = event.data.json();
  } catch {
    payload = { body: event.data.text() };
  }
  if (payload === null || typeof payload !== "object") payload = { body: String(payload) };
  const { title, options } = pizzapiNotification(payload);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const target = typeof data.url === "string" ? data.url : "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (windows) => {
      const mine = windows.filter((w) => new URL(w.url).origin === self.location.origin);
      const onTarget = mine.find((w) => new URL(w.url).pathname === target);
      const win = onTarget || mine[0];
      if (win) {
        const focused = await win.focus().catch(() => win);
        if (!onTarget) focused.postMessage({ type: "open-session", sessionId: data.sessionId, url: target });
        return;
      }
      await self.clients.openWindow(target);
    }),
  );
});
