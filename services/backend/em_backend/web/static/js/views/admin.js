// Admin: the X-ADMIN-KEY is kept in memory only (gone on reload). Review held events,
// read the audit trail, list new symbols.

import { api, ApiError } from '../api.js';
import { debounce, h, replace } from '../dom.js';
import * as fmt from '../format.js';
import { admin, on } from '../state.js';

function field(id, label, input, hint) {
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  return { el: h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, error), error, input };
}

function keyForm(onUnlock) {
  const key = field('admin-key', 'Admin key', h('input', { type: 'password', autocomplete: 'off', required: true }));
  const who = field('admin-id', 'Your name (recorded with decisions)', h('input', { type: 'text', autocomplete: 'off', value: admin.adminId || '' }));
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card admin-key', novalidate: true, 'aria-labelledby': 'admin-key-title' },
    h('h2', { id: 'admin-key-title' }, 'Unlock admin tools'),
    h('p', { class: 'muted' }, 'The key is sent as X-ADMIN-KEY and kept in this page’s memory only; reloading forgets it.'),
    h('div', { class: 'field-row' }, key.el, who.el),
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Unlock'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    admin.key = key.input.value;
    admin.adminId = who.input.value.trim() || 'admin';
    try {
      await api('/admin/pending', { useAdmin: true, query: { limit: 1 } });
      onUnlock();
    } catch (err) {
      admin.key = null;
      error.textContent = err.status === 401 || err.status === 403 ? `Not accepted: ${err.message}` : err.message;
      error.hidden = false;
    }
  });
  return form;
}

function pendingItem(ev, onDecided) {
  const note = h('input', { type: 'text', placeholder: 'Note (optional)', 'aria-label': `Note for ${ev.event_id}`, maxlength: 2000 });
  const msg = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const decide = async (approve, btn) => {
    btn.disabled = true;
    msg.hidden = true;
    try {
      await api('/admin/approve', { method: 'POST', useAdmin: true, body: { event_id: ev.event_id, approve, admin_id: admin.adminId || 'admin', note: note.value || null } });
      onDecided();
    } catch (err) {
      msg.textContent = err.status === 409 ? `Already decided: ${err.message}` : err.message;
      msg.hidden = false;
      btn.disabled = false;
    }
  };
  const approveBtn = h('button', { type: 'button', class: 'btn btn-small btn-buy' }, 'Approve');
  const rejectBtn = h('button', { type: 'button', class: 'btn btn-small btn-sell' }, 'Reject');
  approveBtn.addEventListener('click', () => decide(true, approveBtn));
  rejectBtn.addEventListener('click', () => decide(false, rejectBtn));
  const sources = Array.isArray(ev.payload && ev.payload.sources) ? ev.payload.sources : [];
  const d = fmt.direction(ev.impact_points);
  return h(
    'li',
    { class: 'review-item', 'data-event-id': ev.event_id },
    h('div', { class: 'feed-top' }, h('time', { class: 'muted num', datetime: ev.received_at }, fmt.dateTime(ev.received_at)), h('span', { class: `num chg chg-${d}` }, `Impact ${fmt.signed(ev.impact_points)}`), h('span', { class: 'muted' }, `source ${ev.source}`)),
    h('p', { class: 'feed-summary' }, ev.summary || '(no summary)'),
    h('ul', { class: 'feed-changes' }, ev.held.map((x) => h('li', { class: 'feed-change' }, h('span', { class: 'sym' }, x.symbol), h('span', { class: 'muted' }, fmt.relativeLabel(x.reason)), h('span', { class: 'num' }, fmt.signed(x.delta))))),
    sources.length ? h('p', { class: 'muted' }, `Sources: ${sources.map((s) => s.id || s.url).join(', ')}`) : null,
    h('p', { class: 'muted feed-id' }, `Event ${ev.event_id} · symbols ${ev.stocks.join(', ')}`),
    h('div', { class: 'review-actions' }, note, approveBtn, rejectBtn),
    msg,
  );
}

function createSymbolForm(onCreated) {
  const f = {
    symbol: field('new-symbol', 'Symbol', h('input', { type: 'text', autocomplete: 'off', placeholder: 'MOON', spellcheck: 'false' }), 'A–Z, 0–9, _; 2–16 characters, starting with a letter'),
    name: field('new-name', 'Name', h('input', { type: 'text', autocomplete: 'off' })),
    description: field('new-description', 'Description', h('textarea', { rows: 2 })),
    kind: field('new-kind', 'Kind', h('select', {}, h('option', { value: 'stock' }, 'Stock'), h('option', { value: 'index' }, 'Index'))),
    components: field('new-components', 'Components (index only)', h('input', { type: 'text', autocomplete: 'off', placeholder: 'ELON:0.5, TECH:0.5' }), 'SYMBOL:weight pairs, weights summing to 1'),
    aliases: field('new-aliases', 'Aliases / keywords', h('input', { type: 'text', autocomplete: 'off', placeholder: 'space travel, moon landing' }), 'Comma-separated; used to match news'),
    market_weight: field('new-mw', 'Market weight', h('input', { type: 'text', inputmode: 'decimal', value: '0.6', class: 'num' }), 'Reality weight = 1 − market weight'),
    initial_score: field('new-initial', 'Initial score', h('input', { type: 'text', inputmode: 'decimal', value: '50.00', class: 'num' })),
  };
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const ok = h('p', { class: 'ok-text', role: 'status' });
  const form = h(
    'form',
    { class: 'create-symbol', novalidate: true, 'aria-labelledby': 'create-title' },
    h('div', { class: 'field-grid' }, Object.values(f).map((x) => x.el)),
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'List symbol'),
    ok,
  );
  const syncKind = () => {
    f.components.el.hidden = f.kind.input.value !== 'index';
  };
  f.kind.input.addEventListener('change', syncKind);
  syncKind();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    ok.textContent = '';
    for (const x of Object.values(f)) {
      x.error.hidden = true;
      x.input.removeAttribute('aria-invalid');
    }
    const mw = f.market_weight.input.value.trim();
    const body = {
      symbol: f.symbol.input.value.trim().toUpperCase(),
      name: f.name.input.value.trim(),
      description: f.description.input.value.trim(),
      kind: f.kind.input.value,
      aliases: f.aliases.input.value.split(',').map((s) => s.trim()).filter(Boolean),
      initial_score: f.initial_score.input.value.trim() || '50',
    };
    if (mw) {
      body.market_weight = mw;
      const cents = fmt.toCents(mw);
      body.reality_weight = cents === null ? mw : ((100 - cents) / 100).toFixed(2);
    }
    if (body.kind === 'index') {
      body.components = f.components.input.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((pair) => {
          const [symbol, weight] = pair.split(':').map((x) => x.trim());
          return { symbol: (symbol || '').toUpperCase(), weight: weight || '' };
        });
    }
    try {
      const created = await api('/admin/stocks', { method: 'POST', useAdmin: true, body });
      ok.textContent = `Listed ${created.symbol} at ${fmt.price(created.final_price ?? created.initial_score)}.`;
      form.reset();
      syncKind();
      onCreated();
    } catch (err) {
      for (const fe of err instanceof ApiError ? err.fields : []) {
        const key = fe.field.split('.')[0];
        const x = f[key] || (key === 'reality_weight' ? f.market_weight : null);
        if (!x) continue;
        x.error.textContent = `${fe.field}: ${fe.message}`;
        x.error.hidden = false;
        x.input.setAttribute('aria-invalid', 'true');
      }
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  return form;
}

function auditTables(res) {
  const decisions = h(
    'table',
    { class: 'grid compact' },
    h('caption', { class: 'table-caption' }, 'Review decisions'),
    h('thead', {}, h('tr', {}, ['Time', 'Event', 'Symbol', 'Reason', 'Delta', 'Decision', 'By', 'Note'].map((t) => h('th', { scope: 'col', class: t === 'Delta' ? 'num' : '' }, t)))),
    h(
      'tbody',
      {},
      res.decisions.length
        ? res.decisions.map((d) => h('tr', {}, h('td', { class: 'muted' }, fmt.dateTime(d.created_at)), h('td', { class: 'mono' }, d.event_id), h('td', {}, d.symbol), h('td', {}, fmt.relativeLabel(d.reason)), h('td', { class: 'num' }, fmt.signed(d.delta)), h('td', {}, d.decision || 'pending'), h('td', {}, d.approved_by || fmt.DASH), h('td', {}, d.note || '')))
        : h('tr', {}, h('td', { colspan: 8, class: 'muted empty-cell' }, 'No decisions')),
    ),
  );
  const changes = h(
    'table',
    { class: 'grid compact' },
    h('caption', { class: 'table-caption' }, 'Score changes'),
    h('thead', {}, h('tr', {}, ['Time', 'Symbol', 'Old', 'New', 'Delta', 'Source', 'Event'].map((t) => h('th', { scope: 'col', class: ['Old', 'New', 'Delta'].includes(t) ? 'num' : '' }, t)))),
    h(
      'tbody',
      {},
      res.score_changes.length
        ? res.score_changes.map((c) => {
            const d = fmt.direction(c.delta);
            return h('tr', {}, h('td', { class: 'muted' }, fmt.dateTime(c.created_at)), h('td', {}, c.symbol), h('td', { class: 'num' }, fmt.price(c.old_score)), h('td', { class: 'num' }, fmt.price(c.new_score)), h('td', { class: `num chg chg-${d}` }, fmt.signed(c.delta)), h('td', {}, c.source), h('td', { class: 'mono' }, c.event_id || fmt.DASH));
          })
        : h('tr', {}, h('td', { colspan: 7, class: 'muted empty-cell' }, 'No score changes')),
    ),
  );
  return [h('div', { class: 'table-scroll' }, decisions), h('div', { class: 'table-scroll' }, changes)];
}

export function mount(root) {
  let alive = true;
  const offs = [];
  const body = h('div', {});
  root.append(h('section', { class: 'page', 'aria-labelledby': 'admin-title' }, h('div', { class: 'page-head' }, h('h1', { id: 'admin-title' }, 'Admin')), body));

  function locked() {
    replace(body, keyForm(unlocked));
  }

  function unlocked() {
    const pendingList = h('ol', { class: 'review-list' });
    const pendingNote = h('p', { class: 'muted' }, 'Loading…');
    const audit = h('div', {});
    const auditFilter = h('input', { type: 'text', id: 'audit-symbol', placeholder: 'All symbols', spellcheck: 'false' });

    async function loadPending() {
      try {
        const res = await api('/admin/pending', { useAdmin: true });
        if (!alive) return;
        pendingNote.textContent = res.count ? `${res.count} event${res.count === 1 ? '' : 's'} waiting for a decision.` : 'Nothing is waiting for review.';
        replace(pendingList, res.data.map((ev) => pendingItem(ev, () => { loadPending(); loadAudit(); })));
      } catch (err) {
        if (alive) pendingNote.textContent = `Could not load pending events: ${err.message}`;
      }
    }

    async function loadAudit() {
      try {
        const res = await api('/admin/audit', { useAdmin: true, query: { symbol: auditFilter.value.trim().toUpperCase(), limit: 50 } });
        if (alive) replace(audit, auditTables(res));
      } catch (err) {
        if (alive) replace(audit, h('p', { class: 'error-text' }, `Could not load the audit trail: ${err.message}`));
      }
    }

    const lock = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Lock');
    lock.addEventListener('click', () => {
      admin.key = null;
      locked();
    });
    const filterForm = h('form', { class: 'inline-form', role: 'search' }, h('label', { for: 'audit-symbol' }, 'Symbol'), auditFilter, h('button', { type: 'submit', class: 'btn btn-small' }, 'Filter'));
    filterForm.addEventListener('submit', (e) => {
      e.preventDefault();
      loadAudit();
    });

    replace(
      body,
      h('p', { class: 'unlocked muted' }, `Unlocked as ${admin.adminId || 'admin'}. `, lock),
      h('section', { class: 'card', 'aria-labelledby': 'pending-title' }, h('h2', { id: 'pending-title' }, 'Pending review'), pendingNote, pendingList),
      h('section', { class: 'card', 'aria-labelledby': 'create-title' }, h('h2', { id: 'create-title' }, 'List a symbol'), createSymbolForm(loadAudit)),
      h('section', { class: 'card', 'aria-labelledby': 'audit-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'audit-title' }, 'Audit trail'), filterForm), audit),
    );
    const soon = debounce(() => {
      loadPending();
      loadAudit();
    }, 300);
    offs.push(on('ws:audit_event', soon), () => soon.cancel());
    loadPending();
    loadAudit();
  }

  if (admin.key) unlocked();
  else locked();
  return () => {
    alive = false;
    offs.forEach((off) => off());
  };
}
