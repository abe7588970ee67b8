// WebSocket connection to /ws with resume logic. No DOM access.
//
//   const sock = new SignalSocket({ url, token, cursor });
//   sock.on('signal', ({ signal, cursor, replay }) => ...);
//   sock.start();
//
// Events: 'state' (connecting | live | reconnecting | signed-out | stopped),
// 'open' ({after}), 'welcome' (frame), 'signal' ({signal, cursor, replay}),
// 'live', 'gap' (frame), 'unread' (count), 'signal-state' (a `state` frame: {ids, read?,
// archived?, snoozed_until?, acted?}), 'close' ({code, reason}),
// 'retry' ({delay, attempt}), 'auth-failed' ({code, reason}), 'frame' (unknown frame).
//
// WebSocketImpl, random and timers are constructor options so the unit tests
// (web/tests/ws.test.js) can drive it with a fake socket and a fake clock.

import { maxId } from './ids.js';

export const CLOSE_BAD_TOKEN = 4401;
const CLOSE_CLIENT_DROP = 4000; // client-side: we gave up on a dead/slow socket

/** Capped exponential backoff with ±25 % jitter, clamped to [min, max]. */
export function backoffDelay(attempt, min = 500, max = 15000, random = Math.random) {
  const base = Math.min(max, min * 2 ** Math.min(Math.max(attempt, 0), 30));
  const jittered = base * (0.75 + random() * 0.5);
  return Math.round(Math.min(max, Math.max(min, jittered)));
}

/** ws:// or wss:// URL for /ws on the page's own host. */
export function wsUrlFor(loc) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

const DEFAULTS = {
  minDelay: 500,
  maxDelay: 15000,
  pingEvery: 25000,
  pongTimeout: 10000,
  connectTimeout: 15000,
};

export class SignalSocket {
  constructor({ url, token, cursor = null, WebSocketImpl, random = Math.random, timers = globalThis, ...options }) {
    this._url = url;
    this._token = token;
    this._cursor = maxId(cursor, null);
    this._WS = WebSocketImpl || globalThis.WebSocket;
    this._random = random;
    // {setTimeout, clearTimeout, setInterval, clearInterval}; tests pass a fake clock.
    // Always called as methods of `timers` (window's timer functions need `this` = window).
    this._clock = timers;
    this._opt = { ...DEFAULTS, ...options };
    this._handlers = new Map();
    this._ws = null;
    this._state = 'idle';
    this._stopped = true;
    this._attempt = 0;
    this._failed = false; // a connection was lost/failed since the last `live`
    this._replaying = true;
    this._timers = { retry: null, connect: null, ping: null, pong: null };
  }

  /** Subscribe; returns an unsubscribe function. */
  on(type, fn) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(fn);
    return () => this._handlers.get(type)?.delete(fn);
  }

  get state() {
    return this._state;
  }

  /** Largest stream id seen (sent as `after` on (re)connect), or null. */
  get cursor() {
    return this._cursor;
  }

  /** Move the cursor forward (never backwards). */
  advanceCursor(id) {
    this._cursor = maxId(this._cursor, id);
  }

  start() {
    if (!this._stopped) return;
    this._stopped = false;
    this._connect();
  }

  stop() {
    this._stopped = true;
    this._clearTimers();
    this._detach(1000, 'client stop');
    this._setState('stopped');
  }

  /** Skip the backoff wait (e.g. browser came back online); probe an open socket with a ping. */
  reconnectNow() {
    if (this._stopped) return;
    if (this._ws) {
      if (this._ws.readyState === 1) this._ping();
      return;
    }
    this._connect();
  }

  /** Send a JSON frame; false if the socket is not open. */
  send(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** {ids: [...]} or {up_to: id} */
  sendRead(selector) {
    return this.send({ type: 'read', ...selector });
  }

  // ---- internals ----------------------------------------------------------

  _emit(type, payload) {
    for (const fn of this._handlers.get(type) || []) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`signalgate: ${type} handler failed`, err);
      }
    }
  }

  _setState(state) {
    if (state === this._state) return;
    this._state = state;
    this._emit('state', state);
  }

  _clearTimers() {
    this._clock.clearTimeout(this._timers.retry);
    this._clock.clearTimeout(this._timers.connect);
    this._clock.clearInterval(this._timers.ping);
    this._clock.clearTimeout(this._timers.pong);
    this._timers = { retry: null, connect: null, ping: null, pong: null };
  }

  _connect() {
    this._clearTimers();
    this._replaying = true;
    this._setState(this._failed ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new this._WS(this._url);
    } catch (err) {
      console.error('signalgate: cannot open WebSocket', err);
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._timers.connect = this._clock.setTimeout(() => this._drop('connect timeout'), this._opt.connectTimeout);

    ws.onopen = () => {
      if (ws !== this._ws) return;
      this._clock.clearTimeout(this._timers.connect);
      const hello = { type: 'hello', token: this._token };
      if (this._cursor) hello.after = this._cursor;
      ws.send(JSON.stringify(hello));
      this._timers.ping = this._clock.setInterval(() => this._ping(), this._opt.pingEvery);
      this._emit('open', { after: hello.after ?? null });
    };
    ws.onmessage = (ev) => {
      if (ws === this._ws) this._onMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (ws === this._ws) this._onClose(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // a close event always follows
  }

  _ping() {
    if (!this.send({ type: 'ping' })) return;
    if (!this._timers.pong) {
      this._timers.pong = this._clock.setTimeout(() => this._drop('pong timeout'), this._opt.pongTimeout);
    }
  }

  _onMessage(raw) {
    // Any traffic proves the connection is alive.
    this._clock.clearTimeout(this._timers.pong);
    this._timers.pong = null;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'welcome':
        this._emit('welcome', frame);
        break;
      case 'signal': {
        const signal = frame.signal;
        if (!signal || typeof signal !== 'object') break;
        this._emit('signal', { signal, cursor: frame.cursor ?? null, replay: this._replaying });
        this.advanceCursor(frame.cursor ?? signal.id);
        break;
      }
      case 'live':
        this._replaying = false;
        this._attempt = 0;
        this._failed = false;
        this._setState('live');
        this._emit('live');
        break;
      case 'gap':
        this._emit('gap', frame);
        break;
      case 'unread':
        if (Number.isFinite(frame.count)) this._emit('unread', frame.count);
        break;
      case 'state':
        if (Array.isArray(frame.ids)) this._emit('signal-state', frame);
        break;
      case 'pong':
        break;
      default:
        this._emit('frame', frame);
    }
  }

  _onClose(code, reason) {
    this._ws = null;
    this._clearTimers();
    this._emit('close', { code, reason });
    if (this._stopped) return;
    if (code === CLOSE_BAD_TOKEN) {
      this._stopped = true;
      this._setState('signed-out');
      this._emit('auth-failed', { code, reason });
      return;
    }
    // 1001 going away, 1013 try again, 4408 hello timeout, 1008 malformed, 1006 ... → retry
    this._scheduleReconnect();
  }

  /** Abandon the current socket without waiting for its close handshake, then retry. */
  _drop(reason) {
    if (!this._ws) return;
    this._detach(CLOSE_CLIENT_DROP, reason);
    this._emit('close', { code: CLOSE_CLIENT_DROP, reason });
    if (!this._stopped) this._scheduleReconnect();
  }

  _detach(code, reason) {
    const ws = this._ws;
    this._ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  _scheduleReconnect() {
    this._clearTimers();
    this._failed = true;
    this._setState('reconnecting');
    const delay = backoffDelay(this._attempt, this._opt.minDelay, this._opt.maxDelay, this._random);
    this._attempt += 1;
    this._emit('retry', { delay, attempt: this._attempt });
    this._timers.retry = this._clock.setTimeout(() => {
      this._timers.retry = null;
      this._connect();
    }, delay);
  }
}
