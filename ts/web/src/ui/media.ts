// Viewport facts the layout depends on beyond CSS: wide screens show diffs side by side and dock
// panels beside the session; phones show them full page.

import { signal } from "@preact/signals";

const query = typeof matchMedia === "function" ? matchMedia("(min-width: 900px)") : null;

/** True on screens at least 900 CSS pixels wide. */
export const wide = signal(query?.matches ?? true);
query?.addEventListener("change", (e) => {
  wide.value = e.matches;
});
