// Shared client state: an event bus, the trader's session, the admin key, quotes and the feed.

export const bus = new EventTarget();

export function on(type, fn) {
  const listener = (e) => fn(e.detail);
  bus.addEventListener(type, listener);
  return () => bus.removeEventListener(type, listener);
}

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

// --- session: the bearer token lives in sessionStorage (gone when the tab closes) -------------

const TOKEN_KEY = 'em.token';
const USER_KEY = 'em.username';
const EXPIRES_KEY = 'em.expires';

export const session = {
  get token() {
    const expires = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
    if (expires && Date.now() > expires) {
      this.clear();
      return null;
    }
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get username() {
    return this.token ? sessionStorage.getItem(USER_KEY) : null;
  },
  start(token, username, expiresIn) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, username);
    if (expiresIn) sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresIn * 1000));
    emit('session', { username });
  },
  clear() {
    const had = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
    if (had) emit('session', { username: null });
  },
};

// --- admin key: memory only, never stored -----------------------------------------------------

export const admin = { key: null, adminId: '' };

// --- quotes: symbol → {symbol, name, kind, final, reality, market, ...} -------------------------

export const quotes = new Map();

/** Merge fields into a symbol's quote and tell views what changed. */
export function updateQuote(symbol, fields, cause) {
  const before = quotes.get(symbol) || { symbol };
  const after = { ...before, ...fields };
  quotes.set(symbol, after);
  emit('quote', { symbol, before, after, cause });
}

// --- reality feed: one entry per event, newest first, kept for this tab -----------------------
// Filled from GET /reality/events (history, "Load more") and from live messages; an event is
// one entry whatever mix of the two told us about it (merged on event_id, moves on symbol).

const FEED_KEY = 'em.feed';
const FEED_SAVED = 100; // what survives a reload of this tab (the API refills the rest)
const FEED_MAX = 1000; // in memory, pages loaded with "Load more" included

function loadFeed() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(FEED_KEY) || '[]');
    return Array.isArray(saved) ? saved.filter((e) => e && typeof e.event_id === 'string') : [];
  } catch {
    return [];
  }
}

export const feed = loadFeed();

function when(entry) {
  const t = Date.parse(entry.ts);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Merge what is known of one event into `list` (newest first, one entry per event_id):
 * `patch` sets the event's fields, `changes` its per-symbol moves (merged on symbol).
 * Returns the entry. Pure apart from `list`, so views can keep lists of their own.
 */
export function upsertEvent(list, eventId, patch, changes = [], max = FEED_MAX) {
  let entry = list.find((e) => e.event_id === eventId);
  if (!entry) {
    entry = { event_id: eventId, ts: patch.ts, summary: '', status: 'applied', changes: [], sources: [] };
    list.push(entry);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && !value.length) continue;
    // The audit trail knows a source's id only: never let it replace links we have.
    if (key === 'sources' && entry.sources.length && !value.some((src) => src && src.url)) continue;
    entry[key] = value;
  }
  for (const change of changes) {
    const known = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== null && v !== undefined));
    const i = entry.changes.findIndex((c) => c.symbol === change.symbol);
    if (i >= 0) entry.changes[i] = { ...entry.changes[i], ...known };
    else entry.changes.push(known);
  }
  list.sort((a, b) => when(b) - when(a));
  if (list.length > max) list.length = max;
  return entry;
}

function saveFeed() {
  try {
    sessionStorage.setItem(FEED_KEY, JSON.stringify(feed.slice(0, FEED_SAVED)));
  } catch {
    /* storage full: the feed still works in memory */
  }
}

/** Record a reality_update or audit_event under its event id. */
export function recordEvent(eventId, patch, change) {
  const entry = upsertEvent(feed, eventId, patch, change ? [change] : []);
  saveFeed();
  emit('feed', entry);
}

/** Record events read from the API ({event_id, patch, changes} each), then tell views once. */
export function recordEvents(items) {
  for (const item of items) upsertEvent(feed, item.event_id, item.patch, item.changes);
  saveFeed();
  emit('feed', null);
}
