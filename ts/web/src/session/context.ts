// The open session's view, for components deep in the transcript (the question card answers
// through it).

import { createContext } from "preact";
import type { SessionView } from "./viewer";

export const ViewContext = createContext<SessionView | null>(null);
