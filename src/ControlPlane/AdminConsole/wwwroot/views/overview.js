// Overview: sign-ins and failures per hour over the last 24 h (GET /v1/org/stats/sign-ins), active sessions, API-key
// use (GET /v1/api-keys: totals and the most used keys, with the increase since the previous refresh), and the edge
// fleet (edges online, p50/p99 per route) from GET /v1/edges, all refreshed every 10 s. The fleet is an operator
// view: other callers see the API's 403 as a note.
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

/** 24 hourly columns: successful sign-ins stacked under failures (and lockouts); heights via CSSOM (allowed by the CSP). */
function signInChart(stats) {
  const max = Math.max(1, ...stats.buckets.map((b) => b.succeeded + b.failed + b.locked));
  return h('div', { class: 'columns', 'data-testid': 'sign-in-chart', role: 'img',
    'aria-label': `Sign-ins per hour over the last ${stats.hours} hours: ${stats.succeeded} succeeded, ${stats.failed} failed` },
  stats.buckets.map((b) => {
    const ok = h('span', { class: 'col ok' });
    const bad = h('span', { class: 'col failed' });
    ok.style.height = `${(100 * b.succeeded) / max}%`;
    bad.style.height = `${(100 * (b.failed + b.locked)) / max}%`;
    const hour = new Date(b.start).getHours();
    return h('div', { class: 'column', title: `${new Date(b.start).toLocaleString()}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.locked} locked` },
      h('span', { class: 'col-stack' }, bad, ok),
      h('span', { class: 'col-label' }, hour % 3 === 0 ? String(hour).padStart(2, '0') : ''));
  }));
}

/** The most used API keys as bars, with the uses added since the previous refresh. */
function keyUseChart(keys, before) {
  const top = [...keys].sort((a, b) => (b.use_count || 0) - (a.use_count || 0)).slice(0, 5);
  const max = Math.max(1, ...top.map((k) => k.use_count || 0));
  return h('div', { class: 'chart', 'data-testid': 'key-use-chart' }, top.map((k) => {
    const bar = h('span', { class: 'bar p50' });
    bar.style.width = `${(100 * (k.use_count || 0)) / max}%`;
    const added = before.has(k.id) ? (k.use_count || 0) - before.get(k.id) : null;
    return h('div', { class: 'chart-row' },
      h('span', { class: 'chart-label' }, `${k.name} (${k.prefix})`),
      h('span', { class: 'chart-track' }, bar),
      h('span', { class: 'chart-figures' }, `${k.use_count || 0} uses${added ? ` · +${added} since last refresh` : ''} · last ${k.last_used_at ? when(k.last_used_at) : 'never'}`));
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

export async function render(container, params, { signal } = {}) {
  let timer = 0;
  let stopped = false;
  let uses = new Map(); // key id → use_count at the previous refresh
  const draw = async () => {
    const claims = api.claims();
    const [org, sessions, edges, signIns, keys] = await Promise.all([
      api.get('/v1/org', signal).catch(() => null),
      api.isAdmin() ? orgSessions(1, signal) : api.get(`/v1/users/${encodeURIComponent(claims.sub)}/sessions`, signal).then((items) => ({ items, more: false })),
      fleet(),
      api.get('/v1/org/stats/sign-ins?hours=24', signal).then((data) => ({ data }), (e) => ({ note: describe(e) })),
      api.get('/v1/api-keys', signal).then((data) => ({ data }), (e) => ({ note: describe(e) })),
    ]);
    if (stopped || signal?.aborted) return;
    const list = edges.data?.edges || [];
    const online = list.filter((e) => !e.stale).length;
    const routes = fleetRoutes(list);
    const active = (keys.data || []).filter((k) => k.status === 'active');
    const totalUses = (keys.data || []).reduce((n, k) => n + (k.use_count || 0), 0);
    const before = uses;
    uses = new Map((keys.data || []).map((k) => [k.id, k.use_count || 0]));
    mount(container,
      h('h1', {}, `Overview${org ? ` · ${org.name}` : ''}`),
      h('div', { class: 'stats' },
        stat('sign-ins in 24 h', signIns.data?.succeeded, 'sign-ins-24h'),
        stat('failed sign-ins in 24 h', signIns.data ? signIns.data.failed + signIns.data.locked : null, 'failures-24h'),
        stat(api.isAdmin() ? 'active sessions in the org' : 'your active sessions', `${sessions.items.length}${sessions.more ? '+' : ''}`, 'active-sessions'),
        stat('API-key uses (active keys)', keys.data ? `${totalUses} (${active.length})` : null, 'key-uses'),
        stat('edges online', edges.data ? `${online} / ${list.length}` : null, 'edges-online'),
        stat('change-log head', edges.data?.head_sequence, 'head-sequence')),
      h('h2', {}, 'Sign-ins over the last 24 hours'),
      signIns.data ? [signInChart(signIns.data),
        h('p', { class: 'legend muted small' }, h('span', { class: 'swatch ok' }), ' succeeded  ', h('span', { class: 'swatch failed' }), ' failed or locked · hours in local time')]
        : h('p', { class: 'muted', 'data-testid': 'sign-in-note' }, signIns.note),
      h('h2', {}, 'API-key use'),
      keys.note ? h('p', { class: 'muted' }, keys.note)
        : keys.data.length ? keyUseChart(keys.data, before) : h('p', { class: 'muted' }, 'No API keys yet.'),
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
