import { render } from "preact";
import { App } from "./app";
import "./push/listen";
import "./styles.css";
import "./theme";

const root = document.getElementById("app");
if (root) render(<App />, root);

// The service worker caches the app shell, so the app opens without a network and installs as an
// app. Browsers allow it in secure contexts only (https, or localhost).
if ("serviceWorker" in navigator && isSecureContext) {
  addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
}
