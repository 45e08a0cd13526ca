// The one way the UI talks HTTP: JSON in and out, bearer token and admin key attached, and
// every failure turned into an ApiError whose message names the offending field.

import { admin, emit, session } from './state.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, message, fields = [], extra = {}) {
    super(message);
    this.status = status;
    this.fields = fields; // [{field: 'price', message: '...'}]
    this.maintenance = Boolean(extra.maintenance);
    this.retryAfter = extra.retryAfter || null;
  }

  /** The message for one field, if the server named it. */
  forField(name) {
    const hit = this.fields.find((f) => f.field === name || f.field.endsWith(`.${name}`));
    return hit ? hit.message : null;
  }
}

const LOCATIONS = new Set(['body', 'query', 'path', 'header']);

/** FastAPI's 422 detail list → [{field, message}]. */
export function fieldErrors(detail) {
  if (!Array.isArray(detail)) return [];
  return detail.map((item) => {
    const loc = Array.isArray(item.loc) ? item.loc.filter((p, i) => !(i === 0 && LOCATIONS.has(p))) : [];
    const field = loc.map(String).join('.');
    const message = String(item.msg || 'is invalid').replace(/^Value error, /, '');
    return { field, message };
  });
}

function describe(status, data, statusText) {
  const detail = data && data.detail;
  if (typeof detail === 'string') return { message: detail, fields: [] };
  const fields = fieldErrors(detail);
  if (fields.length) {
    const message = fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ');
    return { message, fields };
  }
  return { message: `${status} ${statusText || 'request failed'}`, fields: [] };
}

export async function api(path, { method = 'GET', body, query, useAdmin = false, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (useAdmin && admin.key) headers['X-ADMIN-KEY'] = admin.key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let url = BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) {
    emit('api-ok', { path });
    return data;
  }
  const { message, fields } = describe(response.status, data, response.statusText);
  const retryAfter = response.headers.get('Retry-After');
  if (response.status === 503 && data && data.maintenance) {
    emit('maintenance', { enabled: true, message: data.detail || 'Maintenance in progress', until: null });
    throw new ApiError(503, message, fields, { maintenance: true, retryAfter });
  }
  if (response.status === 401 && token && !useAdmin && !path.startsWith('/auth/')) {
    session.clear();
    emit('notice', { text: 'Your session has ended. Please log in again.' });
  }
  if (response.status === 429) {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : '';
    throw new ApiError(429, `${message}.${wait}`.replace('..', '.'), fields, { retryAfter });
  }
  throw new ApiError(response.status, message, fields);
}
