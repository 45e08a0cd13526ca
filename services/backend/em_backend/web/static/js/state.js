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

const FEED_KEY = 'em.feed';
const FEED_MAX = 100;

function loadFeed() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(FEED_KEY) || '[]');
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

export const feed = loadFeed();

/** Record a reality_update or audit_event under its event id. */
export function recordEvent(eventId, patch, change) {
  let entry = feed.find((e) => e.event_id === eventId);
  if (!entry) {
    entry = { event_id: eventId, ts: patch.ts, summary: '', status: 'applied', changes: [], sources: [] };
    feed.unshift(entry);
    if (feed.length > FEED_MAX) feed.length = FEED_MAX;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined && value !== null && value !== '') entry[key] = value;
  }
  if (change) {
    const known = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== null && v !== undefined));
    const i = entry.changes.findIndex((c) => c.symbol === change.symbol);
    if (i >= 0) entry.changes[i] = { ...entry.changes[i], ...known };
    else entry.changes.push(known);
  }
  feed.sort((a, b) => String(b.ts).localeCompare(String(a.ts)));
  try {
    sessionStorage.setItem(FEED_KEY, JSON.stringify(feed));
  } catch {
    /* storage full: the feed still works in memory */
  }
  emit('feed', entry);
}
