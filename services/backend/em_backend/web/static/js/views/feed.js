// Reality feed: events as they move Reality Scores (reality_update) or are held for review
// (audit_event), grouped per event. The public API has no event history endpoint yet, so the
// feed starts with this tab's session; with an admin key it also loads the audit trail.

import { api } from '../api.js';
import { debounce, h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { admin, feed, on, recordEvent } from '../state.js';

const DEMO_HOSTS = /(^|\.)(localhost|127\.0\.0\.1|example|example\.com|example\.org|test|invalid)$/i;

/** Only web links become links (never `javascript:` or `data:` from an event payload). */
function safeUrl(url) {
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

function statusTag(status) {
  const label = { applied: 'Applied', pending_review: 'Held for review', approved: 'Approved', rejected: 'Rejected' }[status] || fmt.relativeLabel(status);
  return h('span', { class: `status status-${status}` }, label);
}

function entryView(e) {
  const impact = e.changes.reduce((best, c) => {
    const d = fmt.toCents(c.delta);
    return d !== null && Math.abs(d) > Math.abs(best ?? 0) ? d : best;
  }, null);
  const changes = e.changes.map((c) => {
    const d = fmt.direction(c.delta);
    return h(
      'li',
      { class: 'feed-change' },
      h('a', { href: `#/symbol/${encodeURIComponent(c.symbol)}`, class: 'sym' }, c.symbol),
      c.reality !== undefined ? h('span', { class: 'num muted' }, `${fmt.price(c.previous)} → ${fmt.price(c.reality)}`) : null,
      c.delta !== undefined ? h('span', { class: `num chg chg-${d}` }, `${fmt.signed(c.delta)} ${fmt.arrow(d)}`) : null,
      c.reason ? h('span', { class: 'muted feed-reason' }, fmt.relativeLabel(c.reason)) : null,
    );
  });
  const sources = (e.sources || []).map((s) =>
    h(
      'li',
      {},
      safeUrl(s.url) ? h('a', { href: safeUrl(s.url), rel: 'noopener noreferrer', target: '_blank' }, s.id || s.url) : s.id || '',
      s.trust !== undefined ? h('span', { class: 'muted' }, ` trust ${fmt.percent(s.trust)}`) : null,
      isDemoSource(s) ? h('span', { class: 'tag tag-demo' }, 'demo') : null,
    ),
  );
  return h(
    'li',
    { class: 'feed-item', 'data-event-id': e.event_id },
    h(
      'div',
      { class: 'feed-top' },
      h('time', { class: 'muted num', datetime: e.ts || '' }, fmt.dateTime(e.ts)),
      statusTag(e.status),
      impact !== null ? h('span', { class: `feed-impact num chg chg-${fmt.direction(impact)}` }, `Impact ${fmt.signed(impact)}`) : null,
    ),
    h('p', { class: 'feed-summary' }, e.summary || h('span', { class: 'muted' }, 'No summary')),
    h('ul', { class: 'feed-changes' }, changes),
    sources.length ? h('div', { class: 'feed-sources' }, h('span', { class: 'muted' }, 'Sources: '), h('ul', { class: 'inline-list' }, sources)) : null,
    h('p', { class: 'muted feed-id' }, `Event ${e.event_id}`),
  );
}

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
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const empty = h('p', { class: 'muted empty' }, 'Events appear here, with their summaries, as the Reality Engine publishes them.');
  const note = h('p', { class: 'muted' });
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
      h('section', { class: 'card', 'aria-labelledby': 'live-events-title' }, h('h2', { id: 'live-events-title' }, 'Live events'), empty, list),
      h('section', { class: 'card', 'aria-labelledby': 'moves-title' }, h('h2', { id: 'moves-title' }, 'Reality moves, last 24 hours'), moves),
    ),
  );
  render();
  loadMoves();
  if (admin.key) loadAudit(note);
  const loadMovesSoon = debounce(loadMoves, 1000);
  const offs = [
    on('feed', () => {
      render();
      loadMovesSoon();
    }),
  ];
  return () => {
    alive = false;
    loadMovesSoon.cancel();
    offs.forEach((off) => off());
  };
}
