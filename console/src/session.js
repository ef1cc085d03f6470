// Who is signed in, shared by every page; the menus follow the person's permissions.
import { reactive } from "vue";
import { api, get } from "./api.js";

export const session = reactive({ me: null, checked: false });

export async function loadMe() {
  try {
    session.me = await get("/api/v1/me");
  } catch {
    session.me = null;
  }
  session.checked = true;
  return session.me;
}

export function may(permission) {
  return !!session.me && session.me.permissions.includes(permission);
}

export async function signIn(name, password) {
  await api("POST", "/api/v1/session", { name, password });
  return loadMe();
}

export async function signOut() {
  try {
    await api("DELETE", "/api/v1/session");
  } finally {
    session.me = null;
  }
}
