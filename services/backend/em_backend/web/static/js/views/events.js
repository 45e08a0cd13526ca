// Reality events as the feed and the symbol page show them: history from GET /reality/events
// (newest first, older pages through its cursor) and live reality_update messages, merged into
// one entry per event_id so an event never shows twice. Every text from an event is set as
// text (dom.js), and only http(s) URLs become links.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { on, upsertEvent } from '../state.js';

const DEMO_HOSTS = /(^|\.)(localhost|127\.0\.0\.1|example|example\.com|example\.org|test|invalid)$/i;

/** Only web links become links (never `javascript:` or `data:` from an event payload). */
export function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

function isDemoSource(src) {
  try {
    return DEMO_HOSTS.test(new URL(src.url).hostname);
  } catch {
    return false;
  }
}

function sourceLabel(src) {
  if (src.id) return src.id;
  try {
    return new URL(src.url).hostname;
  } catch {
    return String(src.url || '');
  }
}

/** An item of GET /reality/events → {event_id, patch, changes} for upsertEvent. */
export function apiEvent(item) {
  return {
    event_id: item.event_id,
    patch: {
      ts: item.applied_at,
      timestamp: item.timestamp,
      summary: item.summary,
      status: item.reviewed ? 'approved' : 'applied',
      impact: item.impact_points,
      sources: item.sources,
    },
    changes: (item.changes || []).map((c) => ({ symbol: c.symbol, previous: c.old_score, reality: c.new_score, delta: c.delta })),
  };
}

/** A live reality_update (one symbol's move) → the same shape. */
export function liveEvent(m) {
  return {
    event_id: m.event_id,
    patch: {
      ts: m.ts,
      timestamp: m.timestamp,
      summary: m.summary,
      impact: m.impact_points,
      sources: Array.isArray(m.sources) ? m.sources : undefined,
    },
    changes: [{ symbol: m.symbol, previous: m.previous, reality: m.reality_score, delta: m.delta }],
  };
}

/** One page of applied events; `symbol` keeps those that moved it. */
export async function fetchEvents({ symbol = null, before = null, limit = 50 } = {}) {
  const path = symbol ? `/stocks/${encodeURIComponent(symbol)}/events` : '/reality/events';
  const res = await api(path, { query: { before, limit } });
  return { items: res.data.map(apiEvent), next: res.next_cursor };
}

function statusTag(status) {
  const label = { applied: 'Applied', pending_review: 'Held for review', approved: 'Approved', rejected: 'Rejected' }[status] || fmt.relativeLabel(status);
  return h('span', { class: `status status-${status}` }, label);
}

/** The event's published impact, else its largest move (live entries of held events). */
function impactOf(e) {
  if (fmt.toCents(e.impact) !== null) return fmt.toCents(e.impact);
  return e.changes.reduce((best, c) => {
    const d = fmt.toCents(c.delta);
    return d !== null && Math.abs(d) > Math.abs(best ?? 0) ? d : best;
  }, null);
}

/** One event: time, status, impact (signed, coloured), summary, the moves, source links. */
export function entryView(e, { symbol = null } = {}) {
  const impact = impactOf(e);
  const changes = e.changes.map((c) => {
    const d = fmt.direction(c.delta);
    return h(
      'li',
      { class: ['feed-change', c.symbol === symbol && 'feed-change-focus'], 'data-symbol': c.symbol },
      h('a', { href: `#/symbol/${encodeURIComponent(c.symbol)}`, class: 'sym' }, c.symbol),
      c.reality !== undefined ? h('span', { class: 'num muted' }, `${fmt.price(c.previous)} → ${fmt.price(c.reality)}`) : null,
      c.delta !== undefined ? h('span', { class: `num chg chg-${d}` }, `${fmt.signed(c.delta)} ${fmt.arrow(d)}`) : null,
      c.reason ? h('span', { class: 'muted feed-reason' }, fmt.relativeLabel(c.reason)) : null,
    );
  });
  const sources = (e.sources || []).map((s) => {
    const href = safeUrl(s.url);
    return h(
      'li',
      {},
      href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank', class: 'feed-source' }, sourceLabel(s)) : sourceLabel(s),
      s.trust !== undefined && s.trust !== null ? h('span', { class: 'muted' }, ` trust ${fmt.percent(s.trust)}`) : null,
      isDemoSource(s) ? h('span', { class: 'tag tag-demo' }, 'demo') : null,
    );
  });
  return h(
    'li',
    { class: 'feed-item', 'data-event-id': e.event_id },
    h(
      'div',
      { class: 'feed-top' },
      h('time', { class: 'muted num', datetime: e.ts || '' }, fmt.dateTime(e.ts)),
      statusTag(e.status),
      impact !== null ? h('span', { class: `feed-impact num chg chg-${fmt.direction(impact)}` }, `Impact ${fmt.signed(impact)} ${fmt.arrow(fmt.direction(impact))}`.trim()) : null,
    ),
    h('p', { class: 'feed-summary' }, e.summary || h('span', { class: 'muted' }, 'No summary')),
    h('ul', { class: 'feed-changes' }, changes),
    sources.length ? h('div', { class: 'feed-sources' }, h('span', { class: 'muted' }, 'Sources: '), h('ul', { class: 'inline-list' }, sources)) : null,
    h('p', { class: 'muted feed-id' }, `Event ${e.event_id}`),
  );
}

/** A "Load more" button: `loadPage(cursor)` fetches the next older page, returns its cursor. */
export function morePager(loadPage) {
  let cursor = null;
  let busy = false;
  const note = h('span', { class: 'muted', role: 'status' });
  const button = h('button', { type: 'button', class: 'btn btn-small feed-more', hidden: true }, 'Load more');
  button.addEventListener('click', async () => {
    if (busy || !cursor) return;
    busy = true;
    button.disabled = true;
    note.textContent = 'Loading…';
    try {
      set(await loadPage(cursor));
      note.textContent = '';
    } catch (err) {
      note.textContent = `Could not load more: ${err.message}`;
    } finally {
      busy = false;
      button.disabled = false;
    }
  });
  function set(next) {
    cursor = next || null;
    button.hidden = !cursor;
  }
  return { el: h('div', { class: 'feed-more-row' }, button, note), set };
}

/** The symbol page's card: the events that moved `symbol`, newest first, kept live. */
export function symbolEvents(symbol, { limit = 10 } = {}) {
  const events = [];
  let alive = true;
  let paged = false;
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const empty = h('p', { class: 'muted empty' }, `No reality event has moved ${symbol} yet.`);
  const note = h('p', { class: 'muted' });

  function render() {
    empty.hidden = events.length > 0;
    replace(list, events.map((e) => entryView(e, { symbol })));
  }
  function merge(items) {
    for (const item of items) upsertEvent(events, item.event_id, item.patch, item.changes);
    render();
  }
  const more = morePager(async (before) => {
    const page = await fetchEvents({ symbol, before, limit });
    if (alive) merge(page.items);
    return page.next;
  });
  async function loadNewest() {
    try {
      const page = await fetchEvents({ symbol, limit });
      if (!alive) return;
      merge(page.items);
      // Later refreshes (after a reconnect) only fill the top; the cursor stays where paging is.
      if (!paged) more.set(page.next);
      paged = true;
      note.textContent = '';
    } catch (err) {
      if (alive) note.textContent = `Could not load events: ${err.message}`;
    }
  }
  const offs = [
    on('ws:reality_update', (m) => {
      if (m.symbol === symbol && m.event_id) merge([liveEvent(m)]);
    }),
    on('live-open', loadNewest),
  ];
  render();
  loadNewest();
  const el = h(
    'section',
    { class: 'card card-events', 'aria-labelledby': 'events-title' },
    h('h2', { id: 'events-title' }, 'Reality events'),
    h('p', { class: 'muted' }, `Why the Reality Score of ${symbol} moved: each applied event, its summary, sources and impact.`),
    note,
    empty,
    list,
    more.el,
  );
  return {
    el,
    destroy() {
      alive = false;
      offs.forEach((off) => off());
    },
  };
}
