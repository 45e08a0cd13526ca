// One symbol: its prices, a chart of Final/Reality/Market, the order book, recent trades,
// the order ticket and the trader's open orders in it, all kept live from the socket.

import { api } from '../api.js';
import { LineChart } from '../chart.js';
import { debounce, h, replace, setLive } from '../dom.js';
import * as fmt from '../format.js';
import { on, quotes, session, updateQuote } from '../state.js';
import { quoteFromStock } from './markets.js';
import { isOpen, openOrdersTable } from './orders.js';
import { symbolEvents } from './events.js';
import { orderTicket } from './ticket.js';

const RANGES = [
  ['1h', '1 hour'],
  ['1d', '1 day'],
  ['1w', '1 week'],
  ['all', 'All'],
];
const RANGE_MS = { '1h': 3600e3, '1d': 24 * 3600e3, '1w': 7 * 24 * 3600e3 };
const BOOK_DEPTH = 10;
const TRADES_SHOWN = 30;

export function mount(root, params) {
  const symbol = String(params[0] || '').toUpperCase();
  let alive = true;
  let range = '1d';
  let history = [];
  let bookSeq = -1;
  let trades = [];
  let portfolio = null;
  let listedAt = null;
  const offs = [];

  const tiles = {
    final: h('span', { class: 'tile-value num', 'data-field': 'final' }, fmt.DASH),
    market: h('span', { class: 'tile-value num', 'data-field': 'market' }, fmt.DASH),
    reality: h('span', { class: 'tile-value num', 'data-field': 'reality' }, fmt.DASH),
    weights: h('span', { class: 'tile-value num' }, fmt.DASH),
    confidence: h('span', { class: 'tile-value num' }, fmt.DASH),
    updated: h('span', { class: 'tile-value num' }, fmt.DASH),
  };
  const tile = (label, el, extra = '') => h('div', { class: `tile ${extra}` }, h('span', { class: 'tile-label' }, label), el);
  const title = h('h1', { id: 'symbol-title' }, symbol);
  const subtitle = h('p', { class: 'muted symbol-desc' });
  const kindTag = h('span', { class: 'tag tag-index', hidden: true }, 'Index');
  const nameEl = h('span', { class: 'symbol-name' });

  const rangeButtons = RANGES.map(([key, label]) =>
    h('button', { type: 'button', class: 'btn btn-small btn-toggle', 'aria-pressed': String(key === range), dataset: { range: key } }, key === 'all' ? 'All' : key, h('span', { class: 'sr-only' }, ` (${label})`)),
  );
  const chartBox = h('div', { class: 'chart-box' });
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Chart legend' },
    h('li', { class: 's-final' }, 'Final'),
    h('li', { class: 's-reality' }, 'Reality'),
    h('li', { class: 's-market' }, 'Market'),
  );
  const bookBody = h('div', { class: 'book' }, h('p', { class: 'muted' }, 'Loading the order book…'));
  const bookMeta = h('p', { class: 'muted book-meta' });
  const tradesBody = h('div', {}, h('p', { class: 'muted' }, 'Loading trades…'));
  const myOrders = h('div', {});
  const myOrdersCard = h('section', { class: 'card card-mine', 'aria-labelledby': 'my-orders-title' }, h('h2', { id: 'my-orders-title' }, 'Your open orders'), myOrders);

  const realityEvents = symbolEvents(symbol);
  const ticket = orderTicket(symbol, {
    position: () => {
      const p = portfolio && portfolio.positions.find((x) => x.symbol === symbol);
      return p && p.quantity > 0 ? p.quantity : 0;
    },
    cash: () => (portfolio ? portfolio.cash : null),
    onPlaced: () => {
      loadMine();
      loadBook();
    },
  });

  const page = h(
    'section',
    { class: 'page', 'aria-labelledby': 'symbol-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/markets' }, '← Markets')),
    h('div', { class: 'page-head symbol-head' }, h('div', {}, h('div', { class: 'title-row' }, title, kindTag, nameEl), subtitle)),
    h(
      'div',
      { class: 'tiles' },
      tile('Final price', tiles.final, 'tile-main'),
      tile('Market', tiles.market),
      tile('Reality', tiles.reality),
      tile('Weights M / R', tiles.weights),
      tile('Confidence', tiles.confidence),
      tile('Updated', tiles.updated),
    ),
    h(
      'div',
      { class: 'split' },
      h(
        'div',
        { class: 'split-main' },
        h(
          'section',
          { class: 'card card-chart', 'aria-labelledby': 'chart-title' },
          h('div', { class: 'card-head' }, h('h2', { id: 'chart-title' }, 'Price history'), legend, h('div', { class: 'btn-group', role: 'group', 'aria-label': 'Time range' }, rangeButtons)),
          chartBox,
        ),
        realityEvents.el,
        myOrdersCard,
        h('section', { class: 'card card-trades', 'aria-labelledby': 'trades-title' }, h('h2', { id: 'trades-title' }, 'Recent trades'), tradesBody),
      ),
      h(
        'aside',
        { class: 'split-side' },
        h('section', { class: 'card card-ticket', 'aria-labelledby': 'ticket-title' }, h('h2', { id: 'ticket-title' }, 'Place an order'), ticket.el),
        h('section', { class: 'card card-book', 'aria-labelledby': 'book-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'book-title' }, 'Order book'), bookMeta), bookBody),
      ),
    ),
  );
  root.append(page);
  const chart = new LineChart(chartBox, { height: 300, label: `${symbol} price history` });

  // --- prices and chart ----------------------------------------------------------------------

  function renderTiles(before) {
    const q = quotes.get(symbol);
    if (!q) return;
    const dir = (f) => (before ? fmt.direction((fmt.toCents(q[f]) ?? 0) - (fmt.toCents(before[f]) ?? 0)) : null);
    setLive(tiles.final, fmt.price(q.final), dir('final'));
    setLive(tiles.market, fmt.price(q.market), dir('market'));
    setLive(tiles.reality, fmt.price(q.reality), dir('reality'));
    tiles.market.title = q.market === null || q.market === undefined ? 'No trades yet: the Final Price uses Reality alone' : '';
    tiles.market.classList.toggle('stale', Boolean(q.market_stale));
    tiles.weights.textContent = `${fmt.percent(q.market_weight)} / ${fmt.percent(q.reality_weight)}`;
    tiles.confidence.textContent = q.confidence === undefined || q.confidence === null ? fmt.DASH : fmt.percent(q.confidence);
    tiles.updated.textContent = fmt.time(q.last_updated);
  }

  function renderChart() {
    const q = quotes.get(symbol);
    const pts = history.slice();
    const start = range === 'all' ? -Infinity : Date.now() - RANGE_MS[range];
    const initial = q ? fmt.num(q.initial) : null;
    if (listedAt !== null && listedAt >= start && initial !== null && (!pts.length || pts[0].t > listedAt)) {
      // Listed inside the window: it started at its initial score.
      pts.unshift({ t: listedAt, final: initial, reality: initial, market: null });
    }
    if (q && q.final !== undefined && q.final !== null) {
      const now = { t: Date.now(), final: fmt.num(q.final), reality: fmt.num(q.reality), market: fmt.num(q.market) };
      // No point in the window means nothing moved in it: the price held all along.
      if (!pts.length) pts.push({ ...now, t: range === 'all' ? listedAt || now.t - 60e3 : now.t - RANGE_MS[range] });
      pts.push(now);
    }
    chart.setSeries([
      { key: 'market', label: 'Market', cls: 's-market', points: pts.map((p) => ({ t: p.t, v: p.market })) },
      { key: 'reality', label: 'Reality', cls: 's-reality', points: pts.map((p) => ({ t: p.t, v: p.reality })) },
      { key: 'final', label: 'Final', cls: 's-final', points: pts.map((p) => ({ t: p.t, v: p.final })) },
    ]);
  }

  async function loadHistory() {
    try {
      const res = await api(`/stocks/${encodeURIComponent(symbol)}/history`, { query: { range, points: 300 } });
      if (!alive) return;
      history = res.points.map((p) => ({
        t: Date.parse(p.ts),
        final: fmt.num(p.final_price),
        reality: fmt.num(p.reality_score),
        market: fmt.num(p.market_price),
      }));
      renderChart();
    } catch (err) {
      if (alive) replace(chartBox, h('p', { class: 'error-text' }, `Could not load history: ${err.message}`));
    }
  }

  for (const btn of rangeButtons) {
    btn.addEventListener('click', () => {
      range = btn.dataset.range;
      for (const b of rangeButtons) b.setAttribute('aria-pressed', String(b === btn));
      loadHistory();
    });
  }

  // --- order book and trades -----------------------------------------------------------------

  function renderBook(book) {
    const levels = (side) => (book[side] || []).slice(0, BOOK_DEPTH);
    const bids = levels('bids');
    const asks = levels('asks');
    const maxQty = Math.max(1, ...bids.map((l) => l.quantity), ...asks.map((l) => l.quantity));
    const table = (rows, side, label) =>
      h(
        'table',
        { class: `grid compact book-side book-${side}` },
        h('caption', { class: 'book-caption' }, label),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col', class: 'num' }, 'Qty'))),
        h(
          'tbody',
          {},
          rows.length
            ? rows.map((l) => {
                const tr = h('tr', {}, h('td', { class: 'num price' }, fmt.price(l.price)), h('td', { class: 'num' }, fmt.integer(l.quantity)));
                tr.style.setProperty('--depth', `${Math.round((l.quantity / maxQty) * 100)}%`);
                return tr;
              })
            : h('tr', {}, h('td', { colspan: 2, class: 'muted empty-cell' }, 'No orders')),
        ),
      );
    replace(bookBody, table(bids, 'bids', 'Bids (buy)'), table(asks, 'asks', 'Asks (sell)'));
    const bestBid = bids.length ? fmt.toCents(bids[0].price) : null;
    const bestAsk = asks.length ? fmt.toCents(asks[0].price) : null;
    const parts = [];
    const last = book.last_trade_price ?? book.last_price;
    if (last !== null && last !== undefined) parts.push(`Last ${fmt.price(last)}`);
    if (bestBid !== null && bestAsk !== null) parts.push(`Spread ${fmt.centsText(bestAsk - bestBid, false)}`);
    if (book.stale) parts.push('stale');
    bookMeta.textContent = parts.join(' · ');
  }

  async function loadBook() {
    try {
      const snap = await api(`/market/${encodeURIComponent(symbol)}/snapshot`, { query: { depth: BOOK_DEPTH } });
      if (!alive || snap.seq < bookSeq) return;
      bookSeq = snap.seq;
      renderBook(snap);
    } catch (err) {
      if (alive && bookSeq < 0) replace(bookBody, h('p', { class: 'muted' }, `Order book unavailable: ${err.message}`));
    }
  }

  function renderTrades() {
    if (!trades.length) {
      replace(tradesBody, h('p', { class: 'muted' }, 'No trades yet.'));
      return;
    }
    replace(
      tradesBody,
      h(
        'table',
        { class: 'grid compact' },
        h('caption', { class: 'sr-only' }, `Recent trades in ${symbol}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col', class: 'num' }, 'Qty'), h('th', { scope: 'col' }, 'Taker'))),
        h(
          'tbody',
          {},
          trades.slice(0, TRADES_SHOWN).map((t) =>
            h('tr', {}, h('td', { class: 'muted' }, fmt.time(t.executed_at)), h('td', { class: `num side-${t.taker_side}` }, fmt.price(t.price)), h('td', { class: 'num' }, fmt.integer(t.quantity)), h('td', {}, t.taker_side === 'buy' ? 'Buyer' : 'Seller')),
          ),
        ),
      ),
    );
  }

  async function loadTrades() {
    try {
      const res = await api(`/market/${encodeURIComponent(symbol)}/trades`, { query: { limit: TRADES_SHOWN } });
      if (!alive) return;
      const seen = new Set(trades.map((t) => t.trade_id));
      trades = trades.concat(res.data.filter((t) => !seen.has(t.trade_id)));
      trades.sort((a, b) => String(b.executed_at).localeCompare(String(a.executed_at)));
      renderTrades();
    } catch (err) {
      if (alive) replace(tradesBody, h('p', { class: 'muted' }, `Trades unavailable: ${err.message}`));
    }
  }

  // --- the trader's own orders and money -----------------------------------------------------

  async function loadMine() {
    myOrdersCard.hidden = !session.token;
    if (!session.token) {
      portfolio = null;
      ticket.update();
      return;
    }
    try {
      const [pf, orders] = await Promise.all([api('/portfolio'), api('/orders', { query: { symbol, status: 'open' } })]);
      if (!alive) return;
      portfolio = pf;
      ticket.update();
      const open = orders.data.filter(isOpen);
      replace(
        myOrders,
        open.length
          ? h('div', { class: 'table-scroll' }, openOrdersTable(open, { showSymbol: false, onChange: loadMine }))
          : h('p', { class: 'muted' }, `No open orders in ${symbol}.`),
      );
    } catch (err) {
      if (alive) replace(myOrders, h('p', { class: 'error-text' }, `Could not load your orders: ${err.message}`));
    }
  }
  const loadMineSoon = debounce(loadMine, 200);

  // --- start and live --------------------------------------------------------------------------

  async function load() {
    try {
      const stock = await api(`/stocks/${encodeURIComponent(symbol)}`);
      if (!alive) return;
      updateQuote(symbol, quoteFromStock(stock), 'load');
      nameEl.textContent = stock.name;
      listedAt = Date.parse(stock.created_at) || null;
      kindTag.hidden = stock.kind !== 'index';
      const comps = stock.components.map((c) => `${c.symbol} ${fmt.percent(c.weight)}`).join(', ');
      subtitle.textContent = [stock.description, comps ? `Components: ${comps}.` : ''].filter(Boolean).join(' ');
      renderTiles(null);
    } catch (err) {
      if (!alive) return;
      replace(page, h('p', { class: 'crumbs' }, h('a', { href: '#/markets' }, '← Markets')), h('h1', { id: 'symbol-title' }, symbol), h('p', { class: 'error-text', role: 'alert' }, err.status === 404 ? `There is no symbol ${symbol}.` : `Could not load ${symbol}: ${err.message}`));
      return;
    }
    api(`/stocks/${encodeURIComponent(symbol)}/final`)
      .then((f) => {
        if (!alive) return;
        updateQuote(symbol, { confidence: f.confidence, last_updated: f.last_updated, market_stale: f.market_stale }, 'load');
        renderTiles(null);
      })
      .catch(() => {});
    loadHistory();
    loadBook();
    loadTrades();
    loadMine();
  }

  offs.push(
    on('quote', ({ symbol: s, before, cause }) => {
      if (s !== symbol || cause === 'load') return;
      renderTiles(before);
      if (cause === 'final') {
        const q = quotes.get(symbol);
        history.push({ t: Date.parse(q.last_updated) || Date.now(), final: fmt.num(q.final), reality: fmt.num(q.reality), market: fmt.num(q.market) });
      }
      renderChart();
    }),
    on('ws:book', (m) => {
      if (m.symbol !== symbol || m.seq <= bookSeq) return;
      bookSeq = m.seq;
      renderBook(m);
    }),
    on('ws:trade', (m) => {
      if (m.symbol !== symbol || trades.some((t) => t.trade_id === m.trade_id)) return;
      trades.unshift(m);
      renderTrades();
    }),
    on('ws:order_update', (m) => {
      if (m.order && m.order.symbol === symbol) loadMineSoon();
    }),
    on('session', loadMine),
    on('live-open', () => {
      // Anything missed while the socket was down: fetch it once.
      loadBook();
      loadTrades();
    }),
  );

  load();
  return () => {
    alive = false;
    chart.destroy();
    realityEvents.destroy();
    loadMineSoon.cancel();
    offs.forEach((off) => off());
  };
}
