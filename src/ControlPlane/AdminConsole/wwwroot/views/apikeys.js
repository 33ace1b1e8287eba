// API keys: the org's keys (GET /v1/api-keys), create with the scopes the caller may grant (GET /v1/api-key-scopes,
// `grantable`), rotate with a grace period, revoke. A secret is shown once, in the response that issued it, and is
// dropped from the page when the view is left. Usage over time: the API keeps a running total per key (use_count,
// reported by the edges every few seconds); the view samples it every SAMPLE_MS while open and charts the increase
// per interval, so the chart covers the time this page has been open, not the key's whole life.
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, field, h, mount, table, text, when } from '../ui.js';
import { latestAudit } from './common.js';

const SAMPLE_MS = 5000;
const MAX_SAMPLES = 48; // 4 minutes at 5 s
const GRACE = [['0', 'none: the old secret stops now'], ['3600', '1 hour'], ['86400', '24 hours'], ['604800', '7 days']];

// Samples outlive a visit to another view (not a reload): id → [{ at, count }].
const samples = new Map();

function sample(keys) {
  const at = Date.now();
  for (const k of keys) {
    const list = samples.get(k.id) || [];
    list.push({ at, count: k.use_count });
    if (list.length > MAX_SAMPLES) list.shift();
    samples.set(k.id, list);
  }
}

/** Columns: uses added between consecutive samples. Heights via CSSOM (allowed by the CSP). */
function usageChart(k) {
  const list = samples.get(k.id) || [];
  const steps = list.slice(1).map((s, i) => Math.max(0, s.count - list[i].count));
  const max = Math.max(1, ...steps);
  const bars = steps.map((n, i) => {
    const bar = h('span', { class: 'spark-bar', title: `${n} uses by ${new Date(list[i + 1].at).toLocaleTimeString()}` });
    bar.style.height = `${Math.max(n ? 8 : 2, (100 * n) / max)}%`;
    return bar;
  });
  const span = list.length > 1 ? Math.round((list[list.length - 1].at - list[0].at) / 1000) : 0;
  return h('div', { class: 'usage' },
    h('div', { class: 'spark', 'data-testid': `usage-chart-${k.name}`, 'aria-label': `Uses per ${SAMPLE_MS / 1000} s` }, bars),
    h('span', { class: 'muted small' }, span ? `+${steps.reduce((a, b) => a + b, 0)} in the last ${span} s` : 'sampling…'));
}

function secretCard(issued, note) {
  const status = h('span', { class: 'muted small', 'aria-live': 'polite', 'data-testid': 'copy-status' });
  const copy = h('button', { type: 'button', 'data-testid': 'copy-secret', onclick: async () => {
    try {
      await navigator.clipboard.writeText(issued.key);
      status.textContent = 'Copied to the clipboard.';
    } catch (e) {
      status.textContent = `Copy failed (${describe(e)}): select the key and copy it by hand.`;
    }
  } }, 'Copy');
  return h('div', { class: 'secret card', 'data-testid': 'secret-card' },
    h('p', { class: 'warning' }, h('strong', {}, 'Copy this key now. '),
      'It is shown only this once: Authio keeps only its digest and cannot show it again. Whoever holds it acts with its scopes.'),
    h('div', { class: 'inline' }, h('code', { class: 'secret-value', 'data-testid': 'new-secret' }, issued.key), copy, status),
    h('p', { class: 'small' }, `${issued.name} (${issued.id}) · ${issued.environment} · ${issued.scopes.join(' ')}`
      + (issued.expires_at ? ` · expires ${when(issued.expires_at)}` : ' · never expires')),
    note ? h('p', { class: 'small' }, note) : null);
}

export async function render(container) {
  const [initial, scopes] = await Promise.all([api.get('/v1/api-keys'), api.get('/v1/api-key-scopes')]);
  let keys = initial;
  sample(keys);
  const grantable = scopes.filter((s) => s.grantable);
  const list = h('div');
  const graceChoice = new Map();
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });

  function draw() {
    mount(list, table([
      { label: 'Key', cell: (k) => [h('div', { 'data-testid': 'key-name' }, k.name), h('div', { class: 'muted small' }, `${k.prefix}… · ${k.id}`)] },
      { label: 'Env', cell: (k) => h('span', { class: 'tag' }, k.environment) },
      { label: 'Scopes', cell: (k) => h('span', { class: 'small' }, k.scopes.join(' ')) },
      { label: 'Status', cell: (k) => h('span', { 'data-testid': `status-${k.name}` }, k.status) },
      { label: 'Created', cell: (k) => [when(k.created_at), h('div', { class: 'muted small' }, `by ${text(k.created_by)}`)] },
      { label: 'Expires', cell: (k) => (k.never_expires ? 'never' : when(k.expires_at)) },
      { label: 'Uses', cell: (k) => [h('strong', { 'data-testid': `uses-${k.name}` }, String(k.use_count)),
        h('div', { class: 'muted small' }, `last ${when(k.last_used_at)}`)] },
      { label: 'Usage', cell: (k) => usageChart(k) },
      { label: 'Actions', cell: (k) => actions(k) },
    ], keys, { empty: 'No API keys yet.', testid: 'api-keys' }));
  }

  async function reload() {
    keys = await api.get('/v1/api-keys');
    sample(keys);
    draw();
  }

  function actions(k) {
    if (k.status !== 'active') return h('span', { class: 'muted small' }, k.revoked_at ? `revoked ${when(k.revoked_at)}` : k.status);
    const grace = h('select', { 'aria-label': 'Grace period for the old secret', 'data-testid': `grace-${k.name}` },
      GRACE.map(([v, label]) => h('option', { value: v, selected: graceChoice.get(k.id) === v }, label)));
    grace.addEventListener('change', () => graceChoice.set(k.id, grace.value)); // survives the periodic redraw
    return h('div', { class: 'inline' },
      grace,
      h('button', { type: 'button', class: 'secondary', 'data-testid': `rotate-${k.name}`, onclick: async () => {
        const seconds = Number(grace.value);
        if (!(await confirmAction('Rotate key', `Issue a new secret for ${k.name}? The old one ${seconds ? `keeps working for ${grace.selectedOptions[0].textContent}` : 'stops working now'}.`, 'Rotate'))) return;
        try {
          const issued = await api.post(`/v1/api-keys/${encodeURIComponent(k.id)}/rotate`, { grace_period_seconds: seconds });
          mount(result, secretCard(issued, issued.previous_key_valid_until
            ? `The previous secret stays valid until ${when(issued.previous_key_valid_until)}.` : 'The previous secret no longer works.'),
          auditCard(await latestAudit('api_key_rotated')));
          await reload();
        } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
      } }, 'Rotate'),
      h('button', { type: 'button', class: 'danger', 'data-testid': `revoke-${k.name}`, onclick: async () => {
        if (!(await confirmAction('Revoke key', `Revoke ${k.name}? Every secret of it stops working, at the edges as soon as they hear of it.`, 'Revoke'))) return;
        try {
          await api.del(`/v1/api-keys/${encodeURIComponent(k.id)}`);
          banner(`Revoked ${k.name}.`, 'ok');
          mount(result, h('p', {}, `Revoked ${k.name}.`), auditCard(await latestAudit('api_key_revoked')));
          await reload();
        } catch (e) { mount(result, h('p', { class: 'error' }, describe(e))); }
      } }, 'Revoke'));
  }

  // Create: only scopes the API says this caller may grant are offered.
  const name = h('input', { type: 'text', required: true, maxlength: '100', 'data-testid': 'key-name-input', autocomplete: 'off' });
  const environment = h('select', { 'data-testid': 'key-environment' },
    h('option', { value: 'live' }, 'live (sk_live_)'), h('option', { value: 'test' }, 'test (sk_test_)'));
  const expires = h('input', { type: 'date', 'data-testid': 'key-expires', 'aria-label': 'Expires on (empty: never)' });
  const boxes = grantable.map((s) => {
    const box = h('input', { type: 'checkbox', value: s.name, 'data-testid': `scope-${s.name}` });
    return h('label', { class: 'scope', title: s.description || '' }, box, ' ', s.name);
  });
  const hidden = scopes.length - grantable.length;
  const create = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    const chosen = boxes.map((l) => l.querySelector('input')).filter((b) => b.checked).map((b) => b.value);
    const body = { name: name.value, scopes: chosen, environment: environment.value };
    if (expires.value) body.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
    try {
      const issued = await api.post('/v1/api-keys', body);
      name.value = '';
      for (const l of boxes) l.querySelector('input').checked = false;
      mount(result, secretCard(issued), auditCard(await latestAudit('api_key_created')));
      await reload();
    } catch (e) { mount(result, h('p', { class: 'error', 'data-testid': 'create-error' }, describe(e))); }
  } },
  h('h2', {}, 'Create an API key'),
  h('div', { class: 'inline-form' }, field('Name', name), field('Environment', environment), field('Expires on (empty: never)', expires)),
  h('fieldset', { class: 'scopes' }, h('legend', {}, 'Scopes'),
    boxes.length ? boxes : h('span', { class: 'muted' }, 'You may not grant any scope.'),
    hidden ? h('p', { class: 'muted small' }, `${hidden} more scope(s) exist that your role may not grant.`) : null),
  h('button', { type: 'submit', 'data-testid': 'create-key' }, 'Create key'));

  draw();
  mount(container, h('h1', {}, 'API keys'), create, result,
    h('h2', {}, 'Keys of this org'),
    h('p', { class: 'muted small' }, `Uses are the running totals the edges report; the chart shows the increase per ${SAMPLE_MS / 1000} s while this page is open.`),
    list);

  let stopped = false;
  let timer = 0;
  const tick = async () => {
    try { await reload(); } catch { /* the next tick tries again */ }
    if (!stopped) timer = setTimeout(tick, SAMPLE_MS);
  };
  timer = setTimeout(tick, SAMPLE_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
