// The app-shell cache of pizzapi's service worker (loaded by sw.js with importScripts), so that the
// app opens (and installs) without a network: page loads go to the network first and fall back to
// the cached shell; the hashed build files under /assets/ are served from the cache once fetched
// (their names change when they do); the icons and manifest are revalidated in the background.
// The API and Socket.IO are never cached. sw.js itself skips waiting and claims the open pages.

const SHELL_CACHE = "pizzapi-shell-v1";
const ASSET_CACHE = "pizzapi-assets-v1";
const SHELL = ["/", "/manifest.webmanifest", "/favicon.svg", "/icon-192.png", "/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (event) => {
  const keep = new Set([SHELL_CACHE, ASSET_CACHE]);
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => n.startsWith("pizzapi-") && !keep.has(n)).map((n) => caches.delete(n)))),
  );
});

/** Whether the worker leaves a request to the network untouched. */
function pizzapiPassThrough(request, url) {
  return request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/");
}

/** A page load: the network's index.html (kept as the shell), else the cached shell. */
async function pizzapiPage(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put("/", response.clone());
    return response;
  } catch (err) {
    const shell = await cache.match("/");
    if (shell) return shell;
    throw err;
  }
}

/** A hashed build file: from the cache, else fetched and kept. */
async function pizzapiAsset(request) {
  const cache = await caches.open(ASSET_CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

/** Anything else of the shell: the cached copy now, refreshed from the network for next time. */
async function pizzapiRevalidate(event) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(event.request);
  const fresh = fetch(event.request).then(async (response) => {
    if (response.ok) await cache.put(event.request, response.clone());
    return response;
  });
  if (hit) {
    event.waitUntil(fresh.catch(() => {}));
    return hit;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (pizzapiPassThrough(event.request, url)) return;
  if (event.request.mode === "navigate") event.respondWith(pizzapiPage(event.request));
  else if (url.pathname.startsWith("/assets/")) event.respondWith(pizzapiAsset(event.request));
  else if (SHELL.includes(url.pathname)) event.respondWith(pizzapiRevalidate(event));
});
