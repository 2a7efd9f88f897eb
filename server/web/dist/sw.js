// pizzapi's service worker, registered at the site root (scope "/"). It takes over open pages at
// once; what it does lives in scripts of their own, loaded here: the app-shell cache in
// sw-shell.js and Web Push notifications in sw-push.js.

importScripts("/sw-shell.js", "/sw-push.js");

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
