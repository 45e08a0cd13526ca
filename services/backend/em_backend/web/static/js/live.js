// The live connection: one socket per tab subscribed to every symbol ("*"), authenticated with
// the trader's token when there is one (for order_update). Reconnects with backoff; a socket
// that hears nothing (not even a heartbeat) for WATCHDOG_MS is presumed dead and replaced.

import { emit, session } from './state.js';

const WATCHDOG_MS = 45000;
const MAX_BACKOFF_MS = 15000;

let socket = null;
let attempts = 0;
let reconnectTimer = null;
let watchdog = null;
let state = 'connecting';

function setState(next) {
  if (state === next) return;
  state = next;
  emit('live-state', { state });
}

export function liveState() {
  return state;
}

function url() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const params = new URLSearchParams({ symbols: '*' });
  const token = session.token;
  if (token) params.set('token', token);
  return `${proto}://${location.host}/ws/updates?${params}`;
}

function feedWatchdog() {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    if (socket) socket.close(4000, 'no heartbeat');
  }, WATCHDOG_MS);
}

export function connect() {
  clearTimeout(reconnectTimer);
  setState(attempts ? 'reconnecting' : 'connecting');
  const ws = new WebSocket(url());
  socket = ws;
  ws.addEventListener('open', () => {
    if (socket !== ws) return;
    attempts = 0;
    setState('live');
    feedWatchdog();
    emit('live-open', {});
  });
  ws.addEventListener('message', (event) => {
    if (socket !== ws) return;
    feedWatchdog();
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg && typeof msg.type === 'string') emit(`ws:${msg.type}`, msg);
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    socket = null;
    clearTimeout(watchdog);
    setState('reconnecting');
    emit('live-closed', {});
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
    attempts += 1;
    reconnectTimer = setTimeout(connect, delay);
  });
}

/** A fresh socket now (after login/logout, so order_update follows the token). */
export function reconnect() {
  const old = socket;
  socket = null;
  attempts = 0;
  clearTimeout(watchdog);
  if (old) old.close(1000, 'reconnect');
  connect();
}
