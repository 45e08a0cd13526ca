// Portfolio: cash, reserved, collateral, positions with P&L at the Final Price, open orders
// (cancel) and own trades; refreshed on order_update and on price moves of held symbols.

import { api } from '../api.js';
import { debounce, h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { on, session } from '../state.js';
import { fillsTable, isOpen, openOrdersTable } from './orders.js';

function summaryCard(label, value, { field, cls = '', hint } = {}) {
  return h(
    'div',
    { class: `tile ${cls}` },
    h('span', { class: 'tile-label' }, label),
    h('span', { class: 'tile-value num', 'data-field': field }, value),
    hint ? h('span', { class: 'tile-hint muted' }, hint) : null,
  );
}

function positionsTable(positions) {
  return h(
    'table',
    { class: 'grid positions-table' },
    h('caption', { class: 'sr-only' }, 'Positions'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Symbol'),
        h('th', { scope: 'col', class: 'num' }, 'Quantity'),
        h('th', { scope: 'col', class: 'num' }, 'Avg cost'),
        h('th', { scope: 'col', class: 'num' }, 'Mark (Final)'),
        h('th', { scope: 'col', class: 'num' }, 'Market value'),
        h('th', { scope: 'col', class: 'num' }, 'Collateral'),
        h('th', { scope: 'col', class: 'num' }, 'Unrealized P&L'),
      ),
    ),
    h(
      'tbody',
      {},
      positions.map((p) => {
        const d = fmt.direction(p.unrealized_pnl);
        return h(
          'tr',
          { 'data-symbol': p.symbol },
          h('th', { scope: 'row' }, h('a', { href: `#/symbol/${encodeURIComponent(p.symbol)}`, class: 'sym' }, p.symbol), p.quantity < 0 ? h('span', { class: 'tag tag-short' }, 'Short') : null),
          h('td', { class: 'num' }, fmt.integer(p.quantity)),
          h('td', { class: 'num' }, fmt.price(p.average_cost)),
          h('td', { class: 'num' }, fmt.price(p.mark_price)),
          h('td', { class: 'num' }, fmt.money(p.market_value)),
          h('td', { class: 'num' }, fmt.money(p.collateral)),
          h('td', { class: `num chg chg-${d}` }, `${fmt.signed(p.unrealized_pnl, true)} ${fmt.arrow(d)}`),
        );
      }),
    ),
  );
}

export function mount(root) {
  let alive = true;
  let held = new Set();
  const summary = h('div', { class: 'tiles' });
  const positions = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const orders = h('div', {});
  const fills = h('div', {});
  const message = h('p', { class: 'form-error', role: 'alert', hidden: true });

  if (!session.token) {
    root.append(
      h(
        'section',
        { class: 'page', 'aria-labelledby': 'pf-title' },
        h('div', { class: 'page-head' }, h('h1', { id: 'pf-title' }, 'Portfolio')),
        h('div', { class: 'card empty' }, h('p', {}, 'Log in to see your cash, positions and orders.'), h('a', { class: 'btn btn-primary', href: '#/login' }, 'Log in or create an account')),
      ),
    );
    return null;
  }

  root.append(
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'pf-title' },
      h('div', { class: 'page-head' }, h('h1', { id: 'pf-title' }, 'Portfolio'), h('p', { class: 'muted' }, `Account of ${session.username}. Positions are marked at the Final Price.`)),
      message,
      summary,
      h('section', { class: 'card', 'aria-labelledby': 'pos-title' }, h('h2', { id: 'pos-title' }, 'Positions'), h('div', { class: 'table-scroll' }, positions)),
      h('section', { class: 'card', 'aria-labelledby': 'oo-title' }, h('h2', { id: 'oo-title' }, 'Open orders'), h('div', { class: 'table-scroll' }, orders)),
      h('section', { class: 'card', 'aria-labelledby': 'fills-title' }, h('h2', { id: 'fills-title' }, 'Your trades'), h('div', { class: 'table-scroll' }, fills)),
    ),
  );

  const onError = (err) => {
    message.textContent = err.message;
    message.hidden = false;
  };

  async function load() {
    try {
      const [pf, oo, tr] = await Promise.all([api('/portfolio'), api('/orders', { query: { status: 'open' } }), api('/trades', { query: { limit: 50 } })]);
      if (!alive) return;
      message.hidden = true;
      held = new Set(pf.positions.map((p) => p.symbol));
      const pnlDir = fmt.direction(pf.unrealized_pnl);
      replace(
        summary,
        summaryCard('Cash', fmt.money(pf.cash), { field: 'cash', cls: 'tile-main', hint: `Started with ${fmt.money(pf.starting_cash)}` }),
        summaryCard('Reserved', fmt.money(pf.reserved), { field: 'reserved', hint: 'Held back by open orders' }),
        summaryCard('Collateral', fmt.money(pf.collateral), { field: 'collateral', hint: 'Posted for short positions' }),
        summaryCard('Positions value', fmt.money(pf.positions_value), { field: 'positions_value' }),
        summaryCard('Unrealized P&L', `${fmt.signed(pf.unrealized_pnl, true)} ${fmt.arrow(pnlDir)}`, { field: 'pnl', cls: `chg-${pnlDir}` }),
        summaryCard('Equity', fmt.money(pf.equity), { field: 'equity' }),
      );
      replace(positions, pf.positions.length ? positionsTable(pf.positions) : h('p', { class: 'muted' }, 'No positions yet. Pick a symbol on the Markets page to trade.'));
      const open = oo.data.filter(isOpen);
      replace(orders, open.length ? openOrdersTable(open, { onChange: load, onError }) : h('p', { class: 'muted' }, 'No open orders.'));
      replace(fills, tr.data.length ? fillsTable(tr.data) : h('p', { class: 'muted' }, 'No trades yet.'));
    } catch (err) {
      if (alive) onError(err);
    }
  }
  const loadSoon = debounce(load, 250);
  const remark = debounce(load, 1000);

  const offs = [
    on('ws:order_update', loadSoon),
    on('quote', ({ symbol, cause }) => {
      if (cause !== 'load' && held.has(symbol)) remark();
    }),
    on('session', () => {
      if (!session.token) location.hash = '#/login';
    }),
    on('live-open', loadSoon),
  ];
  load();
  return () => {
    alive = false;
    loadSoon.cancel();
    remark.cancel();
    offs.forEach((off) => off());
  };
}
