// The colour theme: system (follows the OS), light or dark, remembered in localStorage and applied
// as data-theme on <html> (styles.css keys its colours on it).

import { effect, signal } from "@preact/signals";

export type Theme = "system" | "light" | "dark";

const key = "pizzapi.theme";

function stored(): Theme {
  try {
    const v = localStorage.getItem(key);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export const theme = signal<Theme>(stored());

export function setTheme(t: Theme): void {
  theme.value = t;
  try {
    if (t === "system") localStorage.removeItem(key);
    else localStorage.setItem(key, t);
  } catch {
    // Private browsing without storage: the choice lasts for this page.
  }
}

effect(() => {
  const t = theme.value;
  if (t === "system") delete document.documentElement.dataset["theme"];
  else document.documentElement.dataset["theme"] = t;
});
