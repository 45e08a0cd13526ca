// Prices and money arrive as decimal strings; they are shown with exactly two decimals.
// Arithmetic for previews is done in integer cents so 0.1 + 0.2 never shows up on screen.

const GROUPED = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const DASH = '—';

/** "12.3" → 1230; null for anything that is not a plain decimal. */
export function toCents(value) {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  const frac = m[3] || '';
  let cents;
  if (frac.length <= 2) cents = Number(m[2] || '0') * 100 + Number((frac + '00').slice(0, 2));
  else cents = Math.round(Number(`${m[2] || '0'}.${frac}`) * 100);
  return m[1] === '-' ? -cents : cents;
}

export function num(value) {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A price in points: "55.5" → "55.50". */
export function price(value) {
  const c = toCents(value);
  return c === null ? DASH : centsText(c, false);
}

/** Money in credits with grouping: "10000" → "10,000.00". */
export function money(value) {
  const c = toCents(value);
  return c === null ? DASH : centsText(c, true);
}

export function centsText(cents, grouped = true) {
  const n = cents / 100;
  return grouped ? GROUPED.format(n) : n.toFixed(2);
}

/** "+1.25" / "-3.00" / "0.00". */
export function signed(value, grouped = false) {
  const c = typeof value === 'number' && Number.isInteger(value) ? value : toCents(value);
  if (c === null) return DASH;
  const body = centsText(Math.abs(c), grouped);
  return c > 0 ? `+${body}` : c < 0 ? `-${body}` : body;
}

export function direction(delta) {
  const c = typeof delta === 'number' ? delta : toCents(delta);
  if (!c) return 'flat';
  return c > 0 ? 'up' : 'down';
}

export function arrow(dir) {
  return dir === 'up' ? '▲' : dir === 'down' ? '▼' : '';
}

export function percent(value) {
  const n = num(value);
  return n === null ? DASH : `${Math.round(n * 100)}%`;
}

export function integer(value) {
  const n = num(value);
  return n === null ? DASH : new Intl.NumberFormat('en-US').format(n);
}

export function time(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleTimeString('en-GB', { hour12: false });
}

export function dateTime(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  const date = d.toLocaleDateString('en-CA');
  return `${date} ${d.toLocaleTimeString('en-GB', { hour12: false })}`;
}

export function relativeLabel(status) {
  return String(status || '').replaceAll('_', ' ');
}
