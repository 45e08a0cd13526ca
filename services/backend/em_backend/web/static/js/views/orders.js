// Tables shared by the symbol page and the portfolio: open orders (with cancel) and fills.

import { api } from '../api.js';
import { h } from '../dom.js';
import * as fmt from '../format.js';

const OPEN = new Set(['pending', 'open', 'partially_filled']);

export function isOpen(order) {
  return OPEN.has(order.status);
}

function sideTag(side) {
  return h('span', { class: `side side-${side}` }, side === 'buy' ? 'Buy' : 'Sell');
}

/** Open orders with a Cancel button each; `onChange` runs after a cancel. */
export function openOrdersTable(orders, { showSymbol = true, onChange, onError } = {}) {
  const rows = orders.map((o) => {
    const cancel = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small btn-ghost',
        disabled: !o.order_id,
        title: o.order_id ? 'Cancel the rest of this order' : 'Waiting for the orderbook to confirm',
        'aria-label': `Cancel ${o.side} ${o.quantity} ${o.symbol}${o.price ? ` at ${fmt.price(o.price)}` : ''}`,
      },
      'Cancel',
    );
    cancel.addEventListener('click', async () => {
      cancel.disabled = true;
      cancel.textContent = 'Cancelling…';
      try {
        await api(`/orders/${encodeURIComponent(o.order_id)}`, { method: 'DELETE' });
        if (onChange) onChange();
      } catch (err) {
        cancel.disabled = false;
        cancel.textContent = 'Cancel';
        if (onError) onError(err);
      }
    });
    return h(
      'tr',
      { 'data-order-id': o.order_id || o.client_order_id },
      h('td', { class: 'muted' }, fmt.time(o.created_at)),
      showSymbol ? h('td', {}, h('a', { href: `#/symbol/${encodeURIComponent(o.symbol)}` }, o.symbol)) : null,
      h('td', {}, sideTag(o.side)),
      h('td', {}, `${o.type === 'market' ? 'Market' : 'Limit'} · ${o.time_in_force}`),
      h('td', { class: 'num' }, o.type === 'market' ? 'MKT' : fmt.price(o.price)),
      h('td', { class: 'num' }, fmt.integer(o.quantity)),
      h('td', { class: 'num' }, fmt.integer(o.filled_quantity)),
      h('td', { class: 'num' }, fmt.money(o.reserved)),
      h('td', {}, h('span', { class: `status status-${o.status}` }, fmt.relativeLabel(o.status))),
      h('td', { class: 'actions' }, cancel),
    );
  });
  return h(
    'table',
    { class: 'grid compact orders-table' },
    h('caption', { class: 'sr-only' }, 'Open orders'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Time'),
        showSymbol ? h('th', { scope: 'col' }, 'Symbol') : null,
        h('th', { scope: 'col' }, 'Side'),
        h('th', { scope: 'col' }, 'Type'),
        h('th', { scope: 'col', class: 'num' }, 'Price'),
        h('th', { scope: 'col', class: 'num' }, 'Qty'),
        h('th', { scope: 'col', class: 'num' }, 'Filled'),
        h('th', { scope: 'col', class: 'num' }, 'Reserved'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** The trader's own fills. */
export function fillsTable(trades) {
  return h(
    'table',
    { class: 'grid compact trades-table' },
    h('caption', { class: 'sr-only' }, 'Your trades'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Time'),
        h('th', { scope: 'col' }, 'Symbol'),
        h('th', { scope: 'col' }, 'Side'),
        h('th', { scope: 'col', class: 'num' }, 'Price'),
        h('th', { scope: 'col', class: 'num' }, 'Qty'),
        h('th', { scope: 'col', class: 'num' }, 'Value'),
        h('th', { scope: 'col' }, 'Liquidity'),
      ),
    ),
    h(
      'tbody',
      {},
      trades.map((t) =>
        h(
          'tr',
          {},
          h('td', { class: 'muted' }, fmt.dateTime(t.executed_at)),
          h('td', {}, h('a', { href: `#/symbol/${encodeURIComponent(t.symbol)}` }, t.symbol)),
          h('td', {}, sideTag(t.side)),
          h('td', { class: 'num' }, fmt.price(t.price)),
          h('td', { class: 'num' }, fmt.integer(t.quantity)),
          h('td', { class: 'num' }, fmt.centsText((fmt.toCents(t.price) ?? 0) * t.quantity)),
          h('td', { class: 'muted' }, t.liquidity),
        ),
      ),
    ),
  );
}
