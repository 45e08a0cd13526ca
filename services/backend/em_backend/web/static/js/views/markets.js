// Markets: every symbol with its three prices, the 24 h change and a sparkline, updated live.

import { api } from '../api.js';
import { sparkline } from '../chart.js';
import { h, replace, setLive } from '../dom.js';
import * as fmt from '../format.js';
import { on, quotes, updateQuote } from '../state.js';

const DAY_MS = 24 * 3600e3;

/** The Final Price 24 h ago: the last point at or before then, else the listing price. */
export function baseline(points, initial, now = Date.now()) {
  let base = null;
  for (const p of points) {
    if (p.t <= now - DAY_MS) base = p.v;
    else break;
  }
  return base === null ? fmt.num(initial) : base;
}

export function quoteFromStock(s) {
  return {
    name: s.name,
    kind: s.kind,
    description: s.description,
    initial: s.initial_score,
    final: s.final_price,
    reality: s.reality_score,
    market: s.market_price,
    market_weight: s.market_weight,
    reality_weight: s.reality_weight,
    components: s.components,
  };
}

export function mount(root) {
  const rows = new Map();
  const series = new Map(); // symbol → [{t, v}] of Final Price
  let alive = true;

  const tbody = h('tbody');
  const status = h('p', { class: 'muted table-status', role: 'status' }, 'Loading symbols…');
  const table = h(
    'table',
    { class: 'grid markets-table' },
    h('caption', { class: 'sr-only' }, 'Listed symbols with Final, Market and Reality prices'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Symbol'),
        h('th', { scope: 'col', class: 'num' }, 'Final'),
        h('th', { scope: 'col', class: 'num col-market' }, 'Market'),
        h('th', { scope: 'col', class: 'num col-reality' }, 'Reality'),
        h('th', { scope: 'col', class: 'num' }, '24h change'),
        h('th', { scope: 'col', class: 'col-spark' }, 'Trend'),
        h('th', { scope: 'col', class: 'num col-weights' }, h('abbr', { title: 'Market weight / Reality weight' }, 'Weights')),
      ),
    ),
    tbody,
  );
  root.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'markets-title' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', { id: 'markets-title' }, 'Markets'),
        h('p', { class: 'muted' }, 'Every listed stock and index. Prices update live as trades and news arrive.'),
      ),
      h('div', { class: 'card table-scroll' }, table, status),
    ),
  );

  function renderRow(symbol) {
    const q = quotes.get(symbol);
    let row = rows.get(symbol);
    if (!row) {
      const cells = {
        final: h('td', { class: 'num price-final', 'data-field': 'final' }),
        market: h('td', { class: 'num col-market', 'data-field': 'market' }),
        reality: h('td', { class: 'num col-reality', 'data-field': 'reality' }),
        change: h('td', { class: 'num', 'data-field': 'change' }),
        spark: h('td', { class: 'col-spark', 'data-field': 'spark' }),
        weights: h('td', { class: 'num col-weights muted', 'data-field': 'weights' }),
      };
      const link = h(
        'a',
        { href: `#/symbol/${encodeURIComponent(symbol)}`, class: 'sym-link' },
        h('span', { class: 'sym' }, symbol),
        q.kind === 'index' ? h('span', { class: 'tag tag-index' }, 'Index') : null,
        h('span', { class: 'sym-name' }, q.name || ''),
      );
      const tr = h(
        'tr',
        { 'data-symbol': symbol },
        h('th', { scope: 'row', class: 'sym-cell' }, link),
        cells.final,
        cells.market,
        cells.reality,
        cells.change,
        cells.spark,
        cells.weights,
      );
      tr.addEventListener('click', (e) => {
        if (e.target.closest('a')) return;
        location.hash = `#/symbol/${encodeURIComponent(symbol)}`;
      });
      row = { tr, cells };
      rows.set(symbol, row);
      tbody.append(tr);
    }
    updateCells(symbol, null);
  }

  function updateCells(symbol, before) {
    const row = rows.get(symbol);
    const q = quotes.get(symbol);
    if (!row || !q) return;
    const dir = (field) => (before ? fmt.direction((fmt.toCents(q[field]) ?? 0) - (fmt.toCents(before[field]) ?? 0)) : null);
    setLive(row.cells.final, fmt.price(q.final), dir('final'));
    setLive(row.cells.market, fmt.price(q.market), dir('market'));
    setLive(row.cells.reality, fmt.price(q.reality), dir('reality'));
    row.cells.market.title = q.market === null || q.market === undefined ? 'No trades yet: the Final Price uses Reality alone' : q.market_stale ? 'Orderbook unreachable: last known value' : '';
    row.cells.market.classList.toggle('stale', Boolean(q.market_stale));
    row.cells.weights.textContent = `${fmt.percent(q.market_weight)} / ${fmt.percent(q.reality_weight)}`;
    const pts = series.get(symbol) || [];
    const now = Date.now();
    const base = baseline(pts, q.initial, now);
    const finalCents = fmt.toCents(q.final);
    let d = 'flat';
    if (base === null || finalCents === null) {
      row.cells.change.textContent = fmt.DASH;
    } else {
      const delta = finalCents - Math.round(base * 100);
      d = fmt.direction(delta);
      replace(row.cells.change, h('span', { class: `chg chg-${d}` }, `${fmt.signed(delta)} `, h('span', { 'aria-hidden': 'true' }, fmt.arrow(d))));
    }
    // The last 24 hours, from the baseline the change is measured against, so the line
    // and the number always agree.
    const values = pts.filter((p) => p.t > now - DAY_MS).map((p) => p.v);
    if (base !== null) values.unshift(base);
    const last = values.length ? Math.round(values[values.length - 1] * 100) : null;
    if (finalCents !== null && last !== finalCents) values.push(finalCents / 100);
    replace(row.cells.spark, sparkline(values, { dir: d }));
  }

  async function loadHistory(symbol) {
    try {
      const hist = await api(`/stocks/${encodeURIComponent(symbol)}/history`, { query: { range: 'all', points: 120 } });
      if (!alive) return;
      series.set(
        symbol,
        hist.points.map((p) => ({ t: Date.parse(p.ts), v: fmt.num(p.final_price) })),
      );
      updateCells(symbol, null);
    } catch (err) {
      /* the row still shows prices; the sparkline stays flat */
    }
  }

  async function load() {
    try {
      const res = await api('/stocks');
      if (!alive) return;
      for (const s of res.data) updateQuote(s.symbol, quoteFromStock(s), 'load');
      for (const s of res.data) renderRow(s.symbol);
      status.textContent = res.count
        ? ''
        : 'No symbols are listed yet. An admin can list one on the Admin page.';
      status.hidden = Boolean(res.count);
      await Promise.all(res.data.map((s) => loadHistory(s.symbol)));
    } catch (err) {
      status.hidden = false;
      status.textContent = `Could not load symbols: ${err.message}`;
      status.classList.add('error-text');
    }
  }

  const off = on('quote', ({ symbol, before, after, cause }) => {
    if (!alive || cause === 'load') return;
    if (!rows.has(symbol)) {
      if (after.name) renderRow(symbol);
      return;
    }
    if (cause === 'final' && after.final !== null && after.final !== undefined) {
      const pts = series.get(symbol) || [];
      pts.push({ t: Date.parse(after.last_updated) || Date.now(), v: fmt.num(after.final) });
      if (pts.length > 400) pts.splice(0, pts.length - 400);
      series.set(symbol, pts);
    }
    updateCells(symbol, before);
  });

  load();
  return () => {
    alive = false;
    off();
  };
}
