// The order ticket: buy/sell, limit/market, time in force, price and quantity, with a live
// preview of what the order holds back. The server is the authority on validity: the form
// does not block a submit, it shows the server's answer next to the field it names.

import { api, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { session } from '../state.js';

const MAX_CENTS = 9999;
const FIELDS = ['side', 'type', 'time_in_force', 'price', 'quantity'];

function newClientId() {
  const rnd = crypto.getRandomValues(new Uint32Array(2));
  return `web-${Date.now().toString(36)}-${rnd[0].toString(36)}${rnd[1].toString(36)}`;
}

/** What the order would hold back: the numbers the preview shows (all in cents). */
export function preview({ side, type, priceCents, qty, longQty }) {
  if (!Number.isInteger(qty) || qty <= 0) return null;
  const limit = type === 'market' ? null : priceCents;
  if (type === 'limit' && (limit === null || limit < 1 || limit > MAX_CENTS)) return null;
  if (side === 'buy') {
    return { kind: 'buy', worst: limit === null, cost: (limit ?? MAX_CENTS) * qty };
  }
  const fromLong = Math.max(0, Math.min(longQty || 0, qty));
  const short = qty - fromLong;
  const p = limit ?? 1; // a market sell can fill as low as 0.01
  return {
    kind: 'sell',
    worst: limit === null,
    fromLong,
    short,
    proceeds: limit === null ? null : limit * fromLong,
    collateral: (10000 - p) * short,
  };
}

export function orderTicket(symbol, { position = () => 0, cash = () => null, onPlaced = () => {} } = {}) {
  let clientId = newClientId();
  const id = (name) => `ticket-${name}`;
  const errorEls = {};
  const fieldError = (name) => {
    errorEls[name] = h('p', { class: 'field-error', id: id(`${name}-error`), hidden: true });
    return errorEls[name];
  };
  const radio = (name, value, label, checked) =>
    h(
      'label',
      { class: `seg seg-${value}` },
      h('input', { type: 'radio', name, value, checked }),
      h('span', {}, label),
    );

  const sideSet = h(
    'fieldset',
    { class: 'segmented', 'aria-describedby': id('side-error') },
    h('legend', { class: 'sr-only' }, 'Side'),
    radio('side', 'buy', 'Buy', true),
    radio('side', 'sell', 'Sell', false),
  );
  const typeSet = h(
    'fieldset',
    { class: 'segmented segmented-small', 'aria-describedby': id('type-error') },
    h('legend', { class: 'sr-only' }, 'Order type'),
    radio('type', 'limit', 'Limit', true),
    radio('type', 'market', 'Market', false),
  );
  const tif = h(
    'select',
    { id: id('tif'), name: 'time_in_force', 'aria-describedby': id('time_in_force-error') },
    h('option', { value: 'GTC' }, 'GTC · good till cancelled'),
    h('option', { value: 'IOC' }, 'IOC · immediate or cancel'),
    h('option', { value: 'FOK' }, 'FOK · fill or kill'),
  );
  const priceInput = h('input', {
    id: id('price'),
    name: 'price',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    placeholder: '0.01 – 99.99',
    class: 'num',
    'aria-describedby': `${id('price-hint')} ${id('price-error')}`,
  });
  const qtyInput = h('input', {
    id: id('quantity'),
    name: 'quantity',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    placeholder: 'e.g. 10',
    class: 'num',
    'aria-describedby': id('quantity-error'),
  });
  const previewBox = h('dl', { class: 'preview', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-buy btn-block' }, `Buy ${symbol}`);
  const result = h('p', { class: 'ticket-result', role: 'status', 'aria-live': 'polite' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const loginHint = h('p', { class: 'muted ticket-login' }, h('a', { href: '#/login' }, 'Log in'), ' to place orders.');

  const form = h(
    'form',
    { class: 'ticket', novalidate: true, 'aria-label': `Order ticket for ${symbol}` },
    sideSet,
    fieldError('side'),
    typeSet,
    fieldError('type'),
    h('div', { class: 'field' }, h('label', { for: id('tif') }, 'Time in force'), tif, fieldError('time_in_force')),
    h(
      'div',
      { class: 'field-row' },
      h(
        'div',
        { class: 'field' },
        h('label', { for: id('price') }, 'Price (points)'),
        priceInput,
        h('p', { class: 'hint', id: id('price-hint') }, 'Limit price, 0.01 to 99.99'),
        fieldError('price'),
      ),
      h('div', { class: 'field' }, h('label', { for: id('quantity') }, 'Quantity'), qtyInput, fieldError('quantity')),
    ),
    previewBox,
    formError,
    submit,
    loginHint,
    result,
  );

  const value = (name) => form.querySelector(`input[name="${name}"]:checked`).value;

  function clearErrors() {
    formError.hidden = true;
    for (const name of FIELDS) {
      errorEls[name].hidden = true;
      errorEls[name].textContent = '';
    }
    for (const el of [priceInput, qtyInput, tif]) el.removeAttribute('aria-invalid');
  }

  function update() {
    const side = value('side');
    const type = value('type');
    const market = type === 'market';
    priceInput.disabled = market;
    priceInput.placeholder = market ? 'best available' : '0.01 – 99.99';
    const gtc = tif.querySelector('option[value="GTC"]');
    gtc.disabled = market;
    if (market && tif.value === 'GTC') tif.value = 'IOC';
    submit.textContent = `${side === 'buy' ? 'Buy' : 'Sell'} ${symbol}`;
    submit.className = `btn btn-block ${side === 'buy' ? 'btn-buy' : 'btn-sell'}`;
    const loggedIn = Boolean(session.token);
    submit.hidden = !loggedIn;
    loginHint.hidden = loggedIn;

    const qtyText = qtyInput.value.trim();
    const qty = /^\d+$/.test(qtyText) ? Number(qtyText) : null;
    const p = preview({ side, type, priceCents: fmt.toCents(priceInput.value), qty, longQty: position() });
    const rows = [];
    const row = (label, val, cls = '') => rows.push(h('div', { class: 'preview-row' }, h('dt', {}, label), h('dd', { class: `num ${cls}` }, val)));
    if (!p) {
      row(side === 'buy' ? 'Cost' : 'Collateral', fmt.DASH);
    } else if (p.kind === 'buy') {
      row(p.worst ? 'Reserved up to' : 'Cost', fmt.centsText(p.cost));
      if (p.worst) rows.push(h('p', { class: 'hint' }, 'A market buy reserves the worst price (99.99) per unit; the unused part is released.'));
    } else {
      if (p.fromLong) row('Sold from your position', fmt.integer(p.fromLong));
      if (p.proceeds !== null && p.fromLong) row('Proceeds', fmt.centsText(p.proceeds));
      row('Short', fmt.integer(p.short));
      row(p.worst ? 'Collateral up to' : 'Collateral posted', fmt.centsText(p.collateral));
      if (p.short) rows.push(h('p', { class: 'hint' }, 'Selling short posts (100 − price) per unit as collateral.'));
    }
    const available = cash();
    if (loggedIn && available !== null) row('Available cash', fmt.money(available), 'muted');
    replace(previewBox, rows);
  }

  function showError(err) {
    const fields = err instanceof ApiError ? err.fields : [];
    let placed = false;
    for (const f of fields) {
      let name = FIELDS.find((n) => f.field === n);
      if (!name && !f.field) name = FIELDS.find((n) => f.message.toLowerCase().includes(n.replace('_', ' ')));
      if (!name) continue;
      const el = errorEls[name];
      el.textContent = `${name.replaceAll('_', ' ')}: ${f.message}`;
      el.hidden = false;
      const input = { price: priceInput, quantity: qtyInput, time_in_force: tif }[name];
      if (input) input.setAttribute('aria-invalid', 'true');
      placed = true;
    }
    formError.textContent = `Order rejected: ${err.message}`;
    formError.hidden = false;
    if (!placed && err.status === 422 && /price/i.test(err.message)) priceInput.setAttribute('aria-invalid', 'true');
  }

  form.addEventListener('input', () => {
    result.textContent = '';
    update();
  });
  form.addEventListener('change', update);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    result.textContent = '';
    const type = value('type');
    const body = { symbol, side: value('side'), type, time_in_force: tif.value, client_order_id: clientId };
    const priceText = priceInput.value.trim();
    if (type === 'limit' && priceText !== '') body.price = priceText;
    const qtyText = qtyInput.value.trim();
    if (qtyText !== '') body.quantity = /^\d+$/.test(qtyText) ? Number(qtyText) : qtyText;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const order = await api('/orders', { method: 'POST', body });
      clientId = newClientId();
      const fills = order.fills || [];
      const filled = fills.reduce((n, f) => n + f.quantity, 0);
      result.textContent =
        `Order ${fmt.relativeLabel(order.status)}: ${order.side} ${order.quantity} ${symbol}` +
        (order.type === 'limit' ? ` at ${fmt.price(order.price)}` : ' at market') +
        (filled ? `, ${filled} filled` : '') +
        '.';
      result.className = 'ticket-result ok';
      onPlaced(order);
    } catch (err) {
      // A network failure or 503 may have placed the order: keep the id so a retry is safe.
      if (err.status !== 0 && err.status !== 503) clientId = newClientId();
      showError(err);
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });

  update();
  return { el: form, update };
}
