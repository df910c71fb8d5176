// The public API, called with the signed-in user's token. The token lives in this module's
// memory only: a reload or sign-out forgets it.

let session = null;

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function currentSession() {
  return session;
}

export function signOut() {
  session = null;
}

/** Exchanges an API client's id and secret for a token (OAuth2 client credentials). */
export async function signInTenant(clientId, clientSecret) {
  const body = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret });
  const response = await fetch("/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiProblem(response.status, { title: json.error_description || json.error || "Sign-in refused" });
  }
  session = { kind: "tenant", token: json.access_token, scope: (json.scope || "").split(" ").filter(Boolean), clientId };
  return session;
}

/** Checks the platform admin key against the tenants route and keeps it for the session. */
export async function signInAdmin(key) {
  const response = await fetch("/api/v2/tenants?limit=1", { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) {
    const json = await response.json().catch(() => ({}));
    throw new ApiProblem(response.status, { title: json.detail || json.title || "The admin key was refused" });
  }
  session = { kind: "admin", token: key, scope: [] };
  return session;
}

/** Sends a request; resolves the parsed body (null for 204); throws ApiProblem otherwise. */
export async function api(method, path, body, { ifMatch } = {}) {
  if (!session) throw new ApiProblem(401, { title: "Not signed in" });
  const headers = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (ifMatch !== undefined) headers["if-match"] = `"${ifMatch}"`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    signOut();
    window.dispatchEvent(new CustomEvent("ricochet:signed-out", { detail: "Your session ended; sign in again." }));
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { title: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiProblem(response.status, json || { title: `HTTP ${response.status}` });
  return json;
}

export const get = (path) => api("GET", path);

/** GET that resolves null on 404 or 405: for routes a server may not have yet. */
export async function optional(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiProblem && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

/** A query string from the defined, non-empty values of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Every page of a list route (bounded: at most `maxPages`). */
export async function all(path, maxPages = 20) {
  const out = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    out.push(...page.data);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}
