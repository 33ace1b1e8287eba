// Rate limits: the org's limit at the edges in the one limit grammar. The browser cannot run the edges' parser, so
// each pause in typing asks the API to parse the text (POST /v1/orgs/{org}/rate-limits/validate, which stores
// nothing) and shows the parser's own message; Save and Clear use PUT /v1/orgs/{org}/rate-limits (mod).
import * as api from '../api.js';
import { auditCard, banner, confirmAction, describe, field, h, mount } from '../ui.js';
import { latestAudit } from './common.js';

const GRAMMAR = '<count>/<period>[ burst <n>][ per credential|subject|org|ip][ global]';
const DEBOUNCE_MS = 250;

export async function render(container) {
  const org = api.claims().org;
  const path = `/v1/orgs/${encodeURIComponent(org)}/rate-limits`;
  let current = (await api.get(path)).default;
  const input = h('input', { type: 'text', value: current || '', placeholder: 'e.g. 100/1s burst 200 per org', 'data-testid': 'limit-input', autocomplete: 'off', class: 'wide' });
  const check = h('p', { class: 'muted small', 'data-testid': 'limit-check', 'aria-live': 'polite' });
  const now = h('p', { 'data-testid': 'limit-current' });
  const result = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'action-result' });
  let timer = 0;
  let asked = 0;

  function drawCurrent() {
    mount(now, 'In force at the edges: ', current ? h('code', {}, current) : h('span', { class: 'muted' }, 'none (each edge\'s own default applies)'));
  }

  async function validate() {
    const mine = ++asked;
    const text = input.value;
    try {
      const answer = await api.post(`${path}/validate`, { default: text });
      if (mine !== asked) return;
      check.className = 'ok small';
      check.textContent = answer.default ? `Valid: ${answer.default}` : 'Empty: saving clears the org\'s limit.';
    } catch (e) {
      if (mine !== asked) return;
      check.className = 'error small';
      check.textContent = e.errors?.default ? [].concat(e.errors.default).join(' ') : describe(e);
    }
  }

  async function save(text) {
    const clearing = !text.trim();
    const message = clearing ? 'Remove the org\'s rate limit? Each edge\'s own default applies again.'
      : `Limit the org to ${text.trim()} at every edge? Requests beyond it get 429.`;
    if (!(await confirmAction(clearing ? 'Clear rate limit' : 'Save rate limit', message, clearing ? 'Clear' : 'Save'))) return;
    try {
      current = (await api.put(path, { default: clearing ? null : text })).default;
      input.value = current || '';
      drawCurrent();
      banner(clearing ? 'Rate limit cleared.' : `Rate limit saved: ${current}.`, 'ok');
      mount(result, auditCard(await latestAudit('org_rate_limit_changed')));
    } catch (e) {
      mount(result, h('p', { class: 'error', 'data-testid': 'limit-error' }, describe(e)));
    }
  }

  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(validate, DEBOUNCE_MS); });
  drawCurrent();
  mount(container,
    h('h1', {}, 'Rate limits'),
    h('p', { class: 'muted' }, 'The org\'s limit applies at every edge to routes without their own Authio.RateLimit. Grammar: ',
      h('code', {}, GRAMMAR), '. Periods: ms, s, m, h (1 ms to 24 h); per credential (default), subject, org or ip; global shares it across the fleet through Redis.'),
    now,
    h('form', { class: 'card inline-form', onsubmit: (event) => { event.preventDefault(); save(input.value); } },
      field('Org rate limit', input),
      h('button', { type: 'submit', 'data-testid': 'limit-save' }, 'Save'),
      h('button', { type: 'button', class: 'danger', 'data-testid': 'limit-clear', onclick: () => save('') }, 'Clear'),
      check),
    result);
  if (input.value) validate();
  return () => clearTimeout(timer);
}
