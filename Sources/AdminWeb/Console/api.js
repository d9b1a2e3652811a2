// The admin API from the browser: same origin, the session cookie, and the session's CSRF
// token on every change.
let session = null;

export function current() { return session; }

async function call(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (!response.ok) {
    const error = new Error((data && data.error) || response.statusText);
    error.status = response.status;
    error.code = data && data.code;
    throw error;
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body) => call("PUT", path, body);

export async function resume() {
  try { session = await get("/api/session"); } catch { session = null; }
  return session;
}

export async function signIn(token) {
  session = await post("/api/session", { token });
  return session;
}

export async function signOut() {
  try { await call("DELETE", "/api/session"); } finally { session = null; }
}
