// Every call the console makes: same-origin, with the session cookie, the CSRF header on
// changes, and one error shape ({status, message}) for the pages to show.

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("orderhub_csrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!reply.ok) {
    const message = (data && (data.message || data.detail)) || reply.statusText;
    if (reply.status === 401 && !path.endsWith("/session")) onSignedOut();
    throw new ApiError(reply.status, typeof message === "string" ? message : JSON.stringify(message), data);
  }
  return data;
}

export async function upload(path, file) {
  const reply = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": cookie("orderhub_csrf"), "Content-Type": "application/octet-stream" },
    body: file,
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok && reply.status !== 422) throw new ApiError(reply.status, data.message || reply.statusText);
  return { ok: reply.ok, ...data };
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
