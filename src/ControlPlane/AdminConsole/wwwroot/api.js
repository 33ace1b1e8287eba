// The console's only way to the server: the public /v1 API with the signed-in user's access token.
// The access token lives in this module's memory only (never localStorage/sessionStorage); the refresh token is an
// HttpOnly cookie the page cannot read, rotated through /v1/auth/cookie/refresh with the CSRF header.

const CSRF_COOKIE = '__Host-authio-csrf';
let access = null;      // { token, expiresAt (ms), claims }
let refreshing = null;  // one refresh in flight at a time

/** A refusal from the API, carrying its problem+json fields as the API words them. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || '';
    this.detail = problem?.detail || '';
    this.errors = problem?.errors || null;
    this.retryAfter = retryAfter;
  }

  /** One line for a person: the API's detail, its field errors, and its stable code. */
  describe() {
    const fields = this.errors
      ? ' ' + Object.entries(this.errors).map(([k, v]) => `${k} ${[].concat(v).join(' ')}`).join('; ')
      : '';
    const wait = this.retryAfter ? ` Retry after ${this.retryAfter} s.` : '';
    return `${this.detail || this.message}${fields}${wait}${this.code ? ` (${this.code})` : ''}`;
  }
}

function csrf() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return rest.join('=');
  }
  return '';
}

function decodeClaims(jwt) {
  try {
    const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64.padEnd(b64.length + (4 - (b64.length % 4)) % 4, '=')));
  } catch {
    return {};
  }
}

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  if (response.status === 204) return null;
  if (type.includes('ndjson')) return response.text(); // one JSON document per line, not one document
  if (type.includes('json')) return response.json();
  return response.text();
}

async function failure(response) {
  let problem = null;
  try { problem = await response.json(); } catch { problem = null; }
  return new ApiError(response.status, problem, response.headers.get('retry-after'));
}

function keep(body) {
  access = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000, claims: decodeClaims(body.access_token) };
  return access.claims;
}

async function cookieCall(path, body) {
  const headers = { 'X-CSRF-Token': csrf() };
  if (body) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/v1/auth/cookie/${path}`, {
    method: 'POST', credentials: 'same-origin', headers, body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw await failure(response);
  return parse(response);
}

/**
 * Signs in; the refresh token is set as a cookie by the server. Returns the access token's claims, or, when the API
 * asks for a second factor, { mfaRequired: true, mfaToken, methods, message } for the sign-in view's next step.
 */
export async function signIn(email, password, orgId) {
  const body = { email, password };
  if (orgId) body.org_id = orgId;
  const answer = await cookieCall('login', body);
  if (answer?.mfa_required) {
    return { mfaRequired: true, mfaToken: answer.mfa_token, methods: answer.methods || [], message: answer.detail || answer.message || '' };
  }
  return keep(answer);
}

/** The second step of a sign-in: a TOTP code or a recovery code for the mfa_token the first step answered. */
export async function completeSecondFactor(mfaToken, method, code) {
  return keep(await cookieCall('mfa', { mfa_token: mfaToken, method, code }));
}

/** A new access token from the refresh cookie (after a reload, or before expiry). Null when there is no session. */
export async function refresh() {
  if (!csrf()) { access = null; return null; } // never signed in here (or signed out): nothing to refresh
  if (!refreshing) {
    refreshing = cookieCall('refresh')
      .then(keep)
      .catch((e) => { access = null; if (e.status === 401 || e.status === 403) return null; throw e; })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

export function claims() { return access?.claims || null; }

export function isAdmin() { return (access?.claims?.scope || '').split(' ').includes('admin'); }

function signedOut() {
  access = null;
  window.dispatchEvent(new CustomEvent('authio:signed-out'));
  return new ApiError(401, { code: 'unauthorized', detail: 'Your session has ended: sign in again.' });
}

async function send(method, path, body, signal) {
  if (!access || access.expiresAt - Date.now() < 15000) await refresh();
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!access) throw signedOut();
    const headers = { Authorization: `Bearer ${access.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 && attempt === 0) {
      await refresh();
      continue;
    }
    if (!response.ok) {
      const error = await failure(response);
      if (response.status === 401) signedOut();
      throw error;
    }
    return response;
  }
  throw signedOut();
}

/** Calls the API; refreshes once on an expired or missing token. Throws ApiError with the API's own words. */
export async function call(method, path, body, signal) {
  return parse(await send(method, path, body, signal));
}

/** The target of a Link: <…>; rel="next" header (RFC 8288), as the paged lists send it; null on the last page. */
function nextLink(response) {
  const link = response.headers.get('link') || '';
  const match = /<([^>]+)>\s*;\s*rel="next"/.exec(link);
  return match && match[1].startsWith('/v1/') ? match[1] : null;
}

/** One page of a paged list (GET /v1/users, /v1/sessions, /v1/orgs): { items, next } with next the URL of the next page or null. */
export async function page(path, signal) {
  const response = await send('GET', path, undefined, signal);
  return { items: await parse(response), next: nextLink(response) };
}

export const get = (path, signal) => call('GET', path, undefined, signal);
export const post = (path, body) => call('POST', path, body);
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

/** Ends the session at the server (its tokens stop working at the edges too), then clears the cookie. */
export async function signOut() {
  try {
    if (access) await fetch('/v1/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${access.token}` } });
  } finally {
    access = null;
    try { await cookieCall('logout'); } catch { /* already gone */ }
  }
}
