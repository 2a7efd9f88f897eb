// Client-side routing on the History API. The relay serves index.html for every path that is not
// a file, so these URLs (the share URL /session/:id included) work on reload.

import { computed, signal } from "@preact/signals";

export type Route =
  | { readonly page: "sessions" }
  | { readonly page: "session"; readonly sessionId: string }
  | { readonly page: "runners" }
  | { readonly page: "runner"; readonly runnerId: string }
  | { readonly page: "terminal"; readonly terminalId: string }
  | { readonly page: "account" }
  | { readonly page: "notifications" }
  | { readonly page: "notFound" };

export function parseRoute(path: string): Route {
  let parts: string[];
  try {
    parts = path.split("/").map(decodeURIComponent);
  } catch {
    return { page: "notFound" };
  }
  const [, first = "", second, ...rest] = parts;
  if (rest.length > 0) return { page: "notFound" };
  if (first === "" && second === undefined) return { page: "sessions" };
  if (first === "runners" && second === undefined) return { page: "runners" };
  if (first === "runners" && second) return { page: "runner", runnerId: second };
  if (first === "account" && second === undefined) return { page: "account" };
  if (first === "notifications" && second === undefined) return { page: "notifications" };
  if (first === "session" && second) return { page: "session", sessionId: second };
  if (first === "terminal" && second) return { page: "terminal", terminalId: second };
  return { page: "notFound" };
}

const path = signal(location.pathname);

export const route = computed(() => parseRoute(path.value));

addEventListener("popstate", () => {
  path.value = location.pathname;
});

export function navigate(to: string): void {
  if (to !== location.pathname) history.pushState(null, "", to);
  path.value = to;
}

export const sessionPath = (id: string) => `/session/${encodeURIComponent(id)}`;
export const terminalPath = (id: string) => `/terminal/${encodeURIComponent(id)}`;
export const runnerPath = (id: string) => `/runners/${encodeURIComponent(id)}`;
