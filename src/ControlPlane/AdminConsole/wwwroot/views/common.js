// Reads shared by several views, all through the public API.
import * as api from '../api.js';

/** The newest audit event of a type about a user: what an action just produced. */
export async function latestAudit(event, userId) {
  const query = new URLSearchParams({ event, limit: '1' });
  if (userId) query.set('userId', userId);
  const page = await api.get(`/v1/audit-events?${query}`);
  return page?.items?.[0] || null;
}

/** Every live session in the org, with its user's email: one call per user (at most `maxUsers`). */
export async function orgSessions(maxUsers = 200) {
  const users = (await api.get('/v1/users')).filter((u) => u.active).slice(0, maxUsers);
  const lists = await Promise.all(users.map(async (u) => {
    try {
      return (await api.get(`/v1/users/${encodeURIComponent(u.id)}/sessions`)).map((s) => ({ ...s, email: u.email }));
    } catch {
      return [];
    }
  }));
  return lists.flat().sort((a, b) => String(b.lastSeenAt).localeCompare(String(a.lastSeenAt)));
}
