// DOM helpers. Data only ever becomes text (textContent / text nodes); nothing here parses HTML, so a user name
// like <img src=x onerror=alert(1)> is shown as those characters. Event handlers are functions, never attribute strings.

const SAFE_ATTRS = new Set(['id', 'type', 'name', 'value', 'placeholder', 'for', 'role', 'title', 'autocomplete', 'required',
  'disabled', 'checked', 'min', 'max', 'minlength', 'maxlength', 'href', 'aria-label', 'aria-live', 'hidden', 'colspan',
  'data-testid', 'data-id', 'data-route', 'tabindex', 'selected', 'inputmode', 'viewBox', 'width', 'height']);

/** Creates an element. attrs: class, on<event> functions, and a fixed list of attributes; children: nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (SAFE_ATTRS.has(key)) {
      if (key === 'href' && !String(value).startsWith('#')) throw new Error('only in-app links');
      el.setAttribute(key, value === true ? '' : String(value));
    } else throw new Error(`attribute not allowed: ${key}`);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function text(value) { return value === null || value === undefined || value === '' ? '—' : String(value); }

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A table from rows and column definitions { label, cell(row) → node|text }. */
export function table(columns, rows, { empty = 'Nothing here yet.', testid } = {}) {
  if (!rows.length) return h('p', { class: 'muted', 'data-testid': testid }, empty);
  return h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.label)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => h('td', {}, c.cell(row)))))));
}

let bannerTimer = 0;
/** A message at the top of the page: kind 'error' or 'ok'. */
export function banner(message, kind = 'error') {
  const el = document.getElementById('banner');
  el.className = `banner ${kind}`;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(bannerTimer);
  if (kind === 'ok') bannerTimer = setTimeout(() => { el.hidden = true; }, 8000);
}

export function clearBanner() { document.getElementById('banner').hidden = true; }

/** An error from the API (or anything else) as a person reads it. */
export function describe(error) { return typeof error?.describe === 'function' ? error.describe() : String(error?.message || error); }

/** Asks before acting; resolves true when confirmed. A modal <dialog>, so it works under the CSP (no window.confirm styling). */
export function confirmAction(title, message, confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'data-testid': 'confirm' },
      h('h3', {}, title),
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-yes', onclick: () => close(true) }, confirmLabel)));
    function close(answer) { dialog.close(); dialog.remove(); resolve(answer); }
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** The audit event an action produced, shown under the action (event, actor, subject, time, chain position). */
export function auditCard(event) {
  if (!event) return h('p', { class: 'muted' }, 'No audit event found for this action.');
  const details = event.details ? Object.entries(event.details).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return h('div', { class: 'audit-card', 'data-testid': 'audit-event' },
    h('strong', {}, 'Audit event '), h('code', {}, event.event),
    h('span', {}, ` #${event.seq} at ${when(event.timestamp)} by ${text(event.actorId)} for ${text(event.email || event.userId)} `),
    details ? h('code', {}, details) : null);
}

/** A labelled form field. */
export function field(label, input) { return h('label', { class: 'field' }, h('span', {}, label), input); }
