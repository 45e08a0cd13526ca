// Log in and create an account. The token is kept in sessionStorage for this tab only.

import { api, ApiError } from '../api.js';
import { h } from '../dom.js';
import { session } from '../state.js';

function form({ id, title, submitLabel, autocompletePassword, onSubmit }) {
  const errors = {};
  const field = (name, label, attrs) => {
    errors[name] = h('p', { class: 'field-error', id: `${id}-${name}-error`, hidden: true });
    return h(
      'div',
      { class: 'field' },
      h('label', { for: `${id}-${name}` }, label),
      h('input', { id: `${id}-${name}`, name, 'aria-describedby': `${id}-${name}-error`, ...attrs }),
      errors[name],
    );
  };
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, submitLabel);
  const el = h(
    'form',
    { class: 'card auth-form', novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    field('username', 'Username', { type: 'text', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'none' }),
    field('password', 'Password', { type: 'password', autocomplete: autocompletePassword, required: true }),
    formError,
    submit,
  );
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.hidden = true;
    for (const [name, p] of Object.entries(errors)) {
      p.hidden = true;
      el.elements[name].removeAttribute('aria-invalid');
    }
    submit.disabled = true;
    try {
      await onSubmit(el.elements.username.value.trim(), el.elements.password.value);
    } catch (err) {
      for (const f of err instanceof ApiError ? err.fields : []) {
        const p = errors[f.field];
        if (!p) continue;
        p.textContent = `${f.field}: ${f.message}`;
        p.hidden = false;
        el.elements[f.field].setAttribute('aria-invalid', 'true');
      }
      formError.textContent = err.message;
      formError.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

async function login(username, password) {
  const token = await api('/auth/login', { method: 'POST', body: { username, password } });
  session.start(token.access_token, username, token.expires_in);
  location.hash = '#/portfolio';
}

export function mount(root) {
  const loginForm = form({ id: 'login', title: 'Log in', submitLabel: 'Log in', autocompletePassword: 'current-password', onSubmit: login });
  const registerForm = form({
    id: 'register',
    title: 'Create an account',
    submitLabel: 'Create account',
    autocompletePassword: 'new-password',
    onSubmit: async (username, password) => {
      await api('/auth/register', { method: 'POST', body: { username, password } });
      await login(username, password);
    },
  });
  root.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'auth-title' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', { id: 'auth-title' }, session.username ? `Logged in as ${session.username}` : 'Log in or create an account'),
        h('p', { class: 'muted' }, 'New accounts start with 10,000.00 credits of play money. Usernames: 3–32 letters, digits, dot, dash or underscore; passwords: at least 8 characters.'),
      ),
      h('div', { class: 'auth-grid' }, loginForm, registerForm),
    ),
  );
  loginForm.elements.username.focus();
}
