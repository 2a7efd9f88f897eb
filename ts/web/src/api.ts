// The relay's REST API (same origin, cookie auth), typed with the contract's request and response
// bodies.

import type { rest } from "@pizzapi/protocol";
import { member, str } from "./read";

/** A failed request: the status and the relay's `error` message. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: object): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(path, init);
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, str(member(data, "error")) ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

const runner = (id: string) => `/api/runners/${encodeURIComponent(id)}`;

export const api = {
  getSession: () => request<rest.AuthSessionResponse | null>("GET", "/api/auth/get-session"),
  signIn: (b: rest.SignInRequest) => request<rest.AuthUserResponse>("POST", "/api/auth/sign-in/email", b),
  signUp: (b: rest.SignUpRequest) => request<rest.AuthUserResponse>("POST", "/api/auth/sign-up/email", b),
  signOut: () => request<rest.OkResponse>("POST", "/api/auth/sign-out"),
  sessions: () => request<rest.SessionsResponse>("GET", "/api/sessions"),
  attach: (sessionId: string, files: readonly File[]) => {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    return request<rest.AttachmentsResponse>("POST", `/api/sessions/${encodeURIComponent(sessionId)}/attachments`, form);
  },
  runners: () => request<rest.RunnersResponse>("GET", "/api/runners"),
  recentFolders: (runnerId: string) => request<rest.RecentFoldersResponse>("GET", `${runner(runnerId)}/recent-folders`),
  spawn: (b: rest.SpawnRequest) => request<rest.SpawnResponse>("POST", "/api/runners/spawn", b),
  terminal: (b: rest.TerminalRequest) => request<rest.TerminalResponse>("POST", "/api/runners/terminal", b),
};

/** The message of whatever a request threw. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
