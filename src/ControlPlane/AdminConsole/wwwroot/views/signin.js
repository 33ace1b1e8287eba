// Sign-in: email + password (+ organization when the user belongs to several). Lockout (423) and rate-limit (429)
// refusals are shown exactly as the API words them, with Retry-After. The MFA step goes between password and session:
// when the API answers that a second factor is needed, renderSecondFactor() will take over (not in the API yet).
import * as api from '../api.js';
import { describe, field, h, mount } from '../ui.js';

export function render(container, { onSignedIn }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, 'data-testid': 'email' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'password' });
  const org = h('input', { type: 'text', name: 'org_id', placeholder: 'only if you belong to several', 'data-testid': 'org' });
  const message = h('p', { class: 'error', role: 'alert', 'aria-live': 'polite', 'data-testid': 'signin-error' });
  const submit = h('button', { type: 'submit', 'data-testid': 'sign-in' }, 'Sign in');
  const form = h('form', { class: 'card signin', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      await api.signIn(email.value, password.value, org.value.trim() || undefined);
      password.value = '';
      onSignedIn();
    } catch (e) {
      message.textContent = describe(e);
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, 'Sign in'),
  h('p', { class: 'muted' }, 'Authio admin console. Your session is kept in an HttpOnly cookie; this page never stores a token.'),
  field('Email', email), field('Password', password), field('Organization id', org), message, submit);
  mount(container, form);
  email.focus();
}
