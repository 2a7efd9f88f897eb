// pizzapi's service worker, registered at the site root (scope "/"). It takes over open pages at
// once; what it does lives in scripts of their own, loaded here: Web Push notifications in
// sw-push.js. The app-shell cache can join them the same way.

importScripts("/sw-push.js");

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
