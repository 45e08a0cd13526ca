// Start-up, hash routing, the header and the banners; views live in views/*.js and each
// returns a cleanup function the router calls when the trader navigates away.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { dateTime } from './format.js';
import * as live from './live.js';
import { emit, on, recordEvent, session, updateQuote } from './state.js';
import * as markets from './views/markets.js';
import * as symbol from './views/symbol.js';
import * as feed from './views/feed.js';
import * as portfolio from './views/portfolio.js';
import * as auth from './views/auth.js';
import * as adminView from './views/admin.js';
import { liveEvent } from './views/events.js';

const ROUTES = {
  markets: { view: markets, title: 'Markets' },
  symbol: { view: symbol, title: 'Symbol' },
  feed: { view: feed, title: 'Reality feed' },
  portfolio: { view: portfolio, title: 'Portfolio' },
  login: { view: auth, title: 'Log in' },
  admin: { view: adminView, title: 'Admin' },
};

const main = document.getElementById('main');
let cleanup = null;
let currentKey = null;

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = ROUTES[parts[0]] ? parts[0] : 'markets';
  return { name, params: parts.slice(1) };
}

function route({ force = false } = {}) {
  const { name, params } = parseHash();
  const key = `${name}/${params.join('/')}`;
  if (key === currentKey && !force) return;
  const moved = currentKey !== null && key !== currentKey;
  currentKey = key;
  if (cleanup) {
    try {
      cleanup();
    } catch (err) {
      console.error(err);
    }
  }
  replace(main);
  const entry = ROUTES[name];
  document.title = `${params[0] ? `${params[0]} · ` : ''}${entry.title} · Everything Market`;
  for (const link of document.querySelectorAll('.nav a')) {
    const active = link.dataset.route === name || (name === 'symbol' && link.dataset.route === 'markets');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup = entry.view.mount(main, params) || null;
  if (moved) main.focus({ preventScroll: true });
}

// --- header: connection and who is logged in ---------------------------------------------------

function renderWho() {
  const who = document.getElementById('who');
  const name = session.username;
  if (name) {
    replace(
      who,
      h('span', { class: 'who-name', title: 'Logged in' }, name),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: logout }, 'Log out'),
    );
  } else {
    replace(who, h('a', { class: 'btn btn-small', href: '#/login' }, 'Log in'));
  }
}

function logout() {
  session.clear();
  location.hash = '#/markets';
}

function renderConn({ state }) {
  const el = document.getElementById('conn');
  el.dataset.state = state;
  const text = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' }[state] || state;
  el.querySelector('.conn-text').textContent = text;
  el.title = state === 'live' ? 'Receiving live updates' : 'Live updates paused; retrying';
}

// --- banners -----------------------------------------------------------------------------------

const maintenanceBanner = document.getElementById('maintenance-banner');
const announcementBanner = document.getElementById('announcement-banner');
const noticeBanner = document.getElementById('notice-banner');
let maintenanceOn = false;
let statusPoll = null;
const DISMISSED_KEY = 'em.dismissed-announcement';

function setMaintenance({ enabled, message, until }) {
  const was = maintenanceOn;
  maintenanceOn = Boolean(enabled);
  if (maintenanceOn) {
    const text = message || 'The market is in maintenance.';
    const suffix = until ? ` Expected back by ${dateTime(until)}.` : '';
    maintenanceBanner.querySelector('.banner-text').textContent = `${text}${suffix}`;
    maintenanceBanner.hidden = false;
    document.body.classList.add('in-maintenance');
    if (!statusPoll) statusPoll = setInterval(refreshStatus, 3000);
  } else {
    maintenanceBanner.hidden = true;
    document.body.classList.remove('in-maintenance');
    clearInterval(statusPoll);
    statusPoll = null;
    if (was) {
      route({ force: true }); // reload the view's data now the API answers again
      if (live.liveState() !== 'live') live.reconnect();
    }
  }
}

function setAnnouncement(ann) {
  const key = ann && ann.message ? `${ann.starts_at}|${ann.message}` : null;
  if (!key || sessionStorage.getItem(DISMISSED_KEY) === key) {
    announcementBanner.hidden = true;
    return;
  }
  const starts = ann.starts_at ? ` (from ${dateTime(ann.starts_at)})` : '';
  announcementBanner.querySelector('.banner-text').textContent = `${ann.message}${starts}`;
  announcementBanner.dataset.key = key;
  announcementBanner.hidden = false;
}

function showNotice({ text }) {
  noticeBanner.querySelector('.banner-text').textContent = text;
  noticeBanner.hidden = false;
}

async function refreshStatus() {
  try {
    const status = await api('/status');
    setMaintenance({ enabled: status.maintenance, message: status.maintenance_message, until: null });
    setAnnouncement(status.announcement);
    emit('status', status);
  } catch (err) {
    // 503 in maintenance already raised the banner through the 'maintenance' event.
    if (!err.maintenance && err.status !== 0) console.warn('status', err);
  }
}

announcementBanner.querySelector('.banner-close').addEventListener('click', () => {
  sessionStorage.setItem(DISMISSED_KEY, announcementBanner.dataset.key || '');
  announcementBanner.hidden = true;
});
noticeBanner.querySelector('.banner-close').addEventListener('click', () => {
  noticeBanner.hidden = true;
});

// --- live messages into the shared stores ------------------------------------------------------

on('ws:final_update', (m) =>
  updateQuote(
    m.symbol,
    {
      final: m.final_price,
      reality: m.reality_score,
      market: m.market_price,
      market_weight: m.market_weight,
      reality_weight: m.reality_weight,
      confidence: m.confidence,
      market_stale: m.market_stale,
      last_updated: m.last_updated,
    },
    'final',
  ),
);
on('ws:market_update', (m) => updateQuote(m.symbol, { market: m.market_price, market_stale: m.market_stale }, 'market'));
on('ws:reality_update', (m) => {
  updateQuote(m.symbol, { reality: m.reality_score }, 'reality');
  const e = liveEvent(m);
  recordEvent(e.event_id, e.patch, e.changes[0]);
});
on('ws:audit_event', (m) => {
  if (!m.event_id) return;
  recordEvent(m.event_id, { ts: m.ts, status: m.status }, { symbol: m.symbol, delta: m.delta, reason: m.reason });
});
on('ws:maintenance', (m) => setMaintenance(m));
on('ws:announcement', (m) => setAnnouncement(m));
on('maintenance', (m) => setMaintenance(m));
on('notice', showNotice);
on('live-state', renderConn);
on('live-closed', () => refreshStatus());
on('session', () => {
  renderWho();
  live.reconnect();
});

window.addEventListener('hashchange', () => route());
renderWho();
renderConn({ state: live.liveState() });
live.connect();
refreshStatus();
route();
