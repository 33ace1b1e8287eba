// Overview: users and active sessions of the org, and the edge fleet (edges online, p50/p99 per route) from
// GET /v1/edges, refreshed every 10 s. The fleet is an operator view: other callers see the API's 403 as a note.
import * as api from '../api.js';
import { describe, h, mount, table, text, when } from '../ui.js';
import { orgSessions } from './common.js';

const REFRESH_MS = 10000;

function stat(label, value, testid) {
  return h('div', { class: 'stat', 'data-testid': testid }, h('span', { class: 'value' }, text(value)), h('span', { class: 'label' }, label));
}

/** Horizontal bars, one per route: p50 solid, p99 as the lighter tail. Widths via CSSOM (allowed by the CSP). */
function latencyChart(routes) {
  const max = Math.max(1, ...routes.map((r) => r.p99_ms || 0));
  return h('div', { class: 'chart', 'data-testid': 'latency-chart' }, routes.map((r) => {
    const p99 = h('span', { class: 'bar p99' });
    const p50 = h('span', { class: 'bar p50' });
    p99.style.width = `${(100 * (r.p99_ms || 0)) / max}%`;
    p50.style.width = `${(100 * (r.p50_ms || 0)) / max}%`;
    return h('div', { class: 'chart-row' },
      h('span', { class: 'chart-label' }, r.route),
      h('span', { class: 'chart-track' }, p99, p50),
      h('span', { class: 'chart-figures' }, `p50 ${fmt(r.p50_ms)} ms · p99 ${fmt(r.p99_ms)} ms · ${r.requests} req`));
  }));
}

function fmt(ms) { return ms === undefined || ms === null ? '—' : Number(ms).toFixed(ms < 10 ? 2 : 1); }

/** Per-route figures over the fleet: requests summed, and the slowest edge's p50/p99 (percentiles do not average). */
function fleetRoutes(edges) {
  const byRoute = new Map();
  for (const edge of edges.filter((e) => !e.stale)) {
    for (const r of edge.routes || []) {
      const cur = byRoute.get(r.route) || { route: r.route, requests: 0, p50_ms: 0, p99_ms: 0 };
      cur.requests += r.requests || 0;
      cur.p50_ms = Math.max(cur.p50_ms, r.p50_ms || 0);
      cur.p99_ms = Math.max(cur.p99_ms, r.p99_ms || 0);
      byRoute.set(r.route, cur);
    }
  }
  return [...byRoute.values()].sort((a, b) => b.requests - a.requests);
}

async function fleet() {
  try {
    return { data: await api.get('/v1/edges') };
  } catch (e) {
    if (e.status === 403) return { note: `The edge fleet is an operator view: ${describe(e)}` };
    if (e.status === 404) return { note: 'This control plane does not report its edge fleet yet (GET /v1/edges answered 404).' };
    return { note: describe(e) };
  }
}

export async function render(container) {
  let timer = 0;
  let stopped = false;
  const draw = async () => {
    const claims = api.claims();
    const [org, sessions, edges] = await Promise.all([
      api.get('/v1/org').catch(() => null),
      api.isAdmin() ? orgSessions() : api.get(`/v1/users/${encodeURIComponent(claims.sub)}/sessions`),
      fleet(),
    ]);
    if (stopped) return;
    const list = edges.data?.edges || [];
    const online = list.filter((e) => !e.stale).length;
    const routes = fleetRoutes(list);
    mount(container,
      h('h1', {}, `Overview${org ? ` · ${org.name}` : ''}`),
      h('div', { class: 'stats' },
        stat(api.isAdmin() ? 'active sessions in the org' : 'your active sessions', sessions.length, 'active-sessions'),
        stat('edges online', edges.data ? `${online} / ${list.length}` : null, 'edges-online'),
        stat('change-log head', edges.data?.head_sequence, 'head-sequence')),
      h('h2', {}, 'Fleet latency per route (last report interval)'),
      edges.note ? h('p', { class: 'muted', 'data-testid': 'fleet-note' }, edges.note)
        : routes.length ? latencyChart(routes) : h('p', { class: 'muted' }, 'No requests reported by the edges yet.'),
      edges.data ? h('h2', {}, 'Edges') : null,
      edges.data ? table([
        { label: 'Edge', cell: (e) => e.id },
        { label: 'Version', cell: (e) => text(e.version) },
        { label: 'State', cell: (e) => (e.stale ? 'stale' : 'online') },
        { label: 'Last seen', cell: (e) => when(e.last_seen) },
        { label: 'Feed', cell: (e) => `${text(e.feed_sequence)} via ${text(e.feed_transport)}, lag ${fmt(e.feed_lag_seconds)} s` },
        { label: 'Key set age', cell: (e) => `${fmt(e.key_set_age_seconds)} s` },
      ], list, { empty: 'No edge has reported yet.', testid: 'edges' }) : null,
      h('p', { class: 'muted' }, `Refreshed ${new Date().toLocaleTimeString()}; every ${REFRESH_MS / 1000} s.`));
  };
  await draw();
  const tick = async () => {
    try { await draw(); } catch { /* the next tick tries again; a sign-out stops the view */ }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
