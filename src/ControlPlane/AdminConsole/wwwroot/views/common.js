// Reads shared by several views, all through the public API.
import * as api from '../api.js';

/** The newest audit event of a type about a user: what an action just produced. */
export async function latestAudit(event, userId) {
  const query = new URLSearchParams({ event, limit: '1' });
  if (userId) query.set('userId', userId);
  const page = await api.get(`/v1/audit-events?${query}`);
  return page?.items?.[0] || null;
}

/** Live sessions in the org, newest first, from GET /v1/sessions (at most `maxPages` pages of 200): { items, more }. */
export async function orgSessions(maxPages = 5, signal) {
  const items = [];
  let next = '/v1/sessions?limit=200';
  for (let i = 0; next && i < maxPages; i++) {
    const page = await api.page(next, signal);
    items.push(...page.items);
    next = page.next;
  }
  return { items, more: Boolean(next) };
}

/**
 * Asks GET /v1/sessions/{sid}/revocation once a second (at most `tries` times) until the edges confirm the session's end;
 * calls onStatus with each answer. Stops when `signal` aborts (the user left the view).
 */
export async function watchRevocation(sessionId, onStatus, signal, tries = 60) {
  for (let i = 0; i < tries && !signal?.aborted; i++) {
    let status = null;
    try {
      status = await api.get(`/v1/sessions/${encodeURIComponent(sessionId)}/revocation`, signal);
    } catch (e) {
      if (signal?.aborted) return null;
      onStatus(null, e);
      return null;
    }
    onStatus(status, null);
    if (status.confirmed) return status;
    await new Promise((resolve) => { setTimeout(resolve, 1000); });
  }
  return null;
}
