import { render } from "preact";
import { App } from "./app";
import "./push/listen";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App />, root);
