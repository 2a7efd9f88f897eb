// A click on a notification in a tab that shows another page: the service worker asks this tab to
// show the session (sw-push.js posts {type: "open-session", sessionId, url}).

import { navigate, sessionPath } from "../router";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (e: MessageEvent<unknown>) => {
    const d = e.data;
    if (!d || typeof d !== "object" || !("type" in d) || d.type !== "open-session") return;
    if ("url" in d && typeof d.url === "string" && d.url.startsWith("/")) navigate(d.url);
    else if ("sessionId" in d && typeof d.sessionId === "string" && d.sessionId) navigate(sessionPath(d.sessionId));
  });
}
