// The relay's REST API (same origin, cookie auth), typed with the contract's request and response
// bodies. Same-origin fetches carry Origin, which the relay checks on cookie-authenticated writes.

import type { ErrorCode, rest } from "@pizzapi/protocol";
import { member, str } from "./read";

/** A failed request: the status, the relay's error code (for decisions) and message (for people). */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | undefined,
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
    throw new ApiError(res.status, str(member(data, "code")) as ErrorCode | undefined, str(member(data, "error")) ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

const runner = (id: string) => `/api/runners/${encodeURIComponent(id)}`;
const skill = (runnerId: string, name: string) => `${runner(runnerId)}/skills/${encodeURIComponent(name)}`;

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
  restartRunner: (runnerId: string) => request<rest.OkResponse>("POST", "/api/runners/restart", { runnerId } satisfies rest.RestartRequest),

  skills: (runnerId: string) => request<rest.SkillsResponse>("GET", `${runner(runnerId)}/skills`),
  skill: (runnerId: string, name: string) => request<rest.SkillResponse>("GET", skill(runnerId, name)),
  createSkill: (runnerId: string, b: rest.SkillRequest) => request<rest.SkillsChangedResponse>("POST", `${runner(runnerId)}/skills`, b),
  updateSkill: (runnerId: string, name: string, b: rest.UpdateSkillRequest) => request<rest.SkillsChangedResponse>("PUT", skill(runnerId, name), b),
  deleteSkill: (runnerId: string, name: string) => request<rest.SkillsChangedResponse>("DELETE", skill(runnerId, name)),

  files: (runnerId: string, b: rest.FilesRequest) => request<rest.FilesResponse>("POST", `${runner(runnerId)}/files`, b),
  readFile: (runnerId: string, b: rest.ReadFileRequest) => request<rest.ReadFileResponse>("POST", `${runner(runnerId)}/read-file`, b),
  gitStatus: (runnerId: string, b: rest.GitStatusRequest) => request<rest.GitStatusResponse>("POST", `${runner(runnerId)}/git-status`, b),
  gitDiff: (runnerId: string, b: rest.GitDiffRequest) => request<rest.GitDiffResponse>("POST", `${runner(runnerId)}/git-diff`, b),

  apiKeys: () => request<rest.APIKey[]>("GET", "/api/auth/api-key/list"),
  createAPIKey: (b: rest.CreateAPIKeyRequest) => request<rest.CreateAPIKeyResponse>("POST", "/api/auth/api-key/create", b),
  deleteAPIKey: (b: rest.DeleteAPIKeyRequest) => request<rest.DeleteAPIKeyResponse>("POST", "/api/auth/api-key/delete", b),
};

/** The message of whatever a request threw. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
