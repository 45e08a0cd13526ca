// Reality feed: applied events from GET /reality/events (newest first, "Load more" pages back
// with its cursor), then kept live by reality_update and audit_event (held, approved,
// rejected) messages, one entry per event. With an admin key it also folds in the audit trail.

import { api } from '../api.js';
import { debounce, h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { admin, feed, on, recordEvent, recordEvents } from '../state.js';
import { entryView, fetchEvents, morePager } from './events.js';

const PAGE = 50;

/** With an admin key: fold the audit trail's score changes into the feed. */
async function loadAudit(note) {
  try {
    const res = await api('/admin/audit', { useAdmin: true, query: { limit: 100 } });
    for (const c of res.score_changes.slice().reverse()) {
      if (!c.event_id) continue;
      recordEvent(
        c.event_id,
        { ts: c.created_at, sources: [{ id: c.source }] },
        { symbol: c.symbol, previous: c.old_score, reality: c.new_score, delta: c.delta },
      );
    }
    for (const d of res.decisions) {
      const status = d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'pending_review';
      recordEvent(d.event_id, { ts: d.created_at, status }, { symbol: d.symbol, delta: d.delta, reason: d.reason });
    }
    note.textContent = 'Including the audit trail (admin).';
  } catch (err) {
    note.textContent = `Audit trail unavailable: ${err.message}`;
  }
}

/** Reality moves in the last day, newest first, read off each symbol's price history. */
export function movesFromHistory(symbol, points, initial, since) {
  const moves = [];
  let prev = fmt.toCents(initial);
  for (const p of points) {
    const cur = fmt.toCents(p.reality_score);
    if (cur !== null && prev !== null && cur !== prev && Date.parse(p.ts) >= since) {
      moves.push({ symbol, ts: p.ts, previous: prev, reality: cur, final: p.final_price });
    }
    if (cur !== null) prev = cur;
  }
  return moves;
}

function movesTable(moves) {
  return h(
    'table',
    { class: 'grid compact moves-table' },
    h('caption', { class: 'sr-only' }, 'Reality Score moves in the last 24 hours'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Time'),
        h('th', { scope: 'col' }, 'Symbol'),
        h('th', { scope: 'col', class: 'num' }, 'Reality'),
        h('th', { scope: 'col', class: 'num' }, 'Change'),
        h('th', { scope: 'col', class: 'num' }, 'Final after'),
      ),
    ),
    h(
      'tbody',
      {},
      moves.map((m) => {
        const delta = m.reality - m.previous;
        const d = fmt.direction(delta);
        return h(
          'tr',
          {},
          h('td', { class: 'muted num-left' }, fmt.dateTime(m.ts)),
          h('td', {}, h('a', { href: `#/symbol/${encodeURIComponent(m.symbol)}`, class: 'sym' }, m.symbol)),
          h('td', { class: 'num' }, `${fmt.centsText(m.previous, false)} → ${fmt.centsText(m.reality, false)}`),
          h('td', { class: `num chg chg-${d}` }, `${fmt.signed(delta)} ${fmt.arrow(d)}`),
          h('td', { class: 'num' }, fmt.price(m.final)),
        );
      }),
    ),
  );
}

export function mount(root) {
  let alive = true;
  let paged = false;
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const empty = h('p', { class: 'muted empty' }, 'Events appear here, with their summaries, as the Reality Engine publishes them.');
  const note = h('p', { class: 'muted' });
  const loadNote = h('p', { class: 'muted' });
  const more = morePager(async (before) => {
    const page = await fetchEvents({ before, limit: PAGE });
    if (alive) recordEvents(page.items);
    return page.next;
  });

  /** The newest page; a refresh after a reconnect fills the top and leaves paging alone. */
  async function loadNewest() {
    try {
      const page = await fetchEvents({ limit: PAGE });
      if (!alive) return;
      recordEvents(page.items);
      if (!paged) more.set(page.next);
      paged = true;
      loadNote.textContent = '';
    } catch (err) {
      if (alive) loadNote.textContent = `Could not load past events: ${err.message}`;
    }
  }
  const moves = h('div', { class: 'table-scroll' }, h('p', { class: 'muted' }, 'Loading…'));

  function render() {
    empty.hidden = feed.length > 0;
    replace(list, feed.map(entryView));
  }

  async function loadMoves() {
    try {
      const stocks = await api('/stocks');
      const since = Date.now() - 24 * 3600e3;
      const all = await Promise.all(
        stocks.data.map(async (s) => {
          const hist = await api(`/stocks/${encodeURIComponent(s.symbol)}/history`, { query: { range: 'all', points: 2000 } });
          return movesFromHistory(s.symbol, hist.points, s.initial_score, since);
        }),
      );
      if (!alive) return;
      const rows = all.flat().sort((a, b) => String(b.ts).localeCompare(String(a.ts))).slice(0, 100);
      replace(moves, rows.length ? movesTable(rows) : h('p', { class: 'muted' }, 'No Reality Score moved in the last 24 hours.'));
    } catch (err) {
      if (alive) replace(moves, h('p', { class: 'error-text' }, `Could not load recent moves: ${err.message}`));
    }
  }

  root.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'feed-title' },
      h('div', { class: 'page-head' }, h('h1', { id: 'feed-title' }, 'Reality feed'), h('p', { class: 'muted' }, 'News events scored by the Reality Engine and how they moved Reality Scores. Suspicious moves wait for an admin.'), note),
      h('section', { class: 'card', 'aria-labelledby': 'live-events-title' }, h('h2', { id: 'live-events-title' }, 'Events'), loadNote, empty, list, more.el),
      h('section', { class: 'card', 'aria-labelledby': 'moves-title' }, h('h2', { id: 'moves-title' }, 'Reality moves, last 24 hours'), moves),
    ),
  );
  render();
  loadNewest();
  loadMoves();
  if (admin.key) loadAudit(note);
  const loadMovesSoon = debounce(loadMoves, 1000);
  const offs = [
    on('feed', () => {
      render();
      loadMovesSoon();
    }),
    on('live-open', loadNewest),
  ];
  return () => {
    alive = false;
    loadMovesSoon.cancel();
    offs.forEach((off) => off());
  };
}
