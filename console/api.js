// The one module that talks to the server. Pages call these functions, never fetch.
// The access token lives in this module's memory only; the refresh token at most in
// sessionStorage (a reload keeps the session in this tab; CONTRACT §8), never in
// localStorage or a cookie. A 401 is answered by one refresh and one retry; when
// that fails the session is over and `onSessionExpired` lets the app ask to sign in.

const REFRESH_KEY = "synkronus.refreshToken";
let accessToken = null;
let refreshing = null;   // the one refresh in flight, shared by concurrent 401s
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = (problem && (problem.detail || problem.message || problem.title)) ||
      (status ? `The server answered ${status}` : "The server could not be reached");
    super(detail);
    this.status = status;
    this.problem = problem || {};
    this.errors = Array.isArray(problem && problem.errors) ? problem.errors : [];
  }
}

export function onSessionExpired(fn) { listeners.add(fn); }

function adopt(pair) {
  accessToken = pair.token;
  if (pair.refreshToken) sessionStorage.setItem(REFRESH_KEY, pair.refreshToken);
}

function forget() {
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
}

/** The signed-in user as the access token says: {username, role}, or null. */
export function currentUser() {
  if (!accessToken) return null;
  try {
    const part = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return { username: String(claims.username || claims.sub || ""), role: String(claims.role || "") };
  } catch {
    return null;
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { /* fall through */ }
  }
  return null;
}

async function send(path, { method = "GET", json, body, query, auth = true } = {}) {
  const headers = {};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (auth && accessToken) headers.Authorization = "Bearer " + accessToken;
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        if (one !== undefined && one !== null && one !== "") q.append(k, String(one));
      }
    }
    const s = q.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  try {
    return await fetch(url, { method, headers, body, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, null);
  }
}

async function refreshOnce() {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  if (!rt) return false;
  if (!refreshing) {
    refreshing = (async () => {
      const r = await send("/auth/refresh", { method: "POST", json: { refreshToken: rt }, auth: false });
      if (!r.ok) { forget(); return false; }
      adopt(await r.json());
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** A request with the token; one refresh and retry on 401. Returns the Response (ok). */
async function authorized(path, options = {}) {
  let r = await send(path, options);
  // `own401`: a 401 that is the answer itself (a wrong current password), not an expired session.
  if (r.status === 401 && options.auth !== false && !options.own401) {
    if (await refreshOnce()) r = await send(path, options);
    if (r.status === 401) {
      const problem = await problemOf(r);
      forget();
      for (const fn of listeners) fn();
      throw new ApiError(401, problem);
    }
  }
  if (!r.ok && r.status !== 304) throw new ApiError(r.status, await problemOf(r));
  return r;
}

async function jsonOf(r) {
  if (r.status === 204) return null;
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export async function getJSON(path, query) { return jsonOf(await authorized(path, { query })); }
export async function postJSON(path, json, opts = {}) { return jsonOf(await authorized(path, { method: "POST", json, ...opts })); }
export async function del(path) { return jsonOf(await authorized(path, { method: "DELETE" })); }

/** A file behind the token as a Blob (for previews and downloads). */
export async function getBlob(path, query) { return (await authorized(path, { query })).blob(); }

/** Path segment escaping for ids and names put into a URL. */
export function seg(s) { return encodeURIComponent(String(s)); }

export async function login(username, password) {
  const r = await send("/auth/login", { method: "POST", json: { username, password }, auth: false });
  if (!r.ok) throw new ApiError(r.status, await problemOf(r));
  adopt(await r.json());
  return currentUser();
}

/** On load: a refresh token kept in this tab gives a new session without signing in. */
export async function resume() {
  if (accessToken) return currentUser();
  return (await refreshOnce()) ? currentUser() : null;
}

export async function logout() {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  try {
    if (accessToken) {
      await send("/auth/logout", { method: "POST", json: rt ? { refreshToken: rt } : {} });
    }
  } finally {
    forget();
  }
}

/** Changing one's own password revokes every session; the answer carries the new pair. */
export async function changeOwnPassword(currentPassword, newPassword) {
  const res = await postJSON("/users/change-password", { currentPassword, newPassword }, { own401: true });
  if (res && res.token) adopt(res);
  return res;
}

/** Multipart upload with progress (fetch reports no upload progress; XHR does). */
export function upload(path, field, file, onProgress) {
  const run = () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (accessToken) xhr.setRequestHeader("Authorization", "Bearer " + accessToken);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    const form = new FormData();
    form.append(field, file, file.name);
    xhr.send(form);
  });
  return run().catch(async (e) => {
    if (e.status === 401 && (await refreshOnce())) return run();
    if (e.status === 401) { forget(); for (const fn of listeners) fn(); }
    throw e;
  });
}
