// The signed-in user (cookie session): undefined while the first check runs, null when signed out.

import type { rest } from "@pizzapi/protocol";
import { signal } from "@preact/signals";
import { api } from "./api";

export const user = signal<rest.User | null | undefined>(undefined);

export async function loadUser(): Promise<void> {
  try {
    user.value = (await api.getSession())?.user ?? null;
  } catch {
    user.value = null;
  }
}

export async function signIn(req: rest.SignInRequest): Promise<void> {
  user.value = (await api.signIn(req)).user;
}

export async function signUp(req: rest.SignUpRequest): Promise<void> {
  user.value = (await api.signUp(req)).user;
}

export async function signOut(): Promise<void> {
  await api.signOut();
  user.value = null;
}
