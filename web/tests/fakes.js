// Test doubles for ws.js: a scriptable WebSocket and a manual clock.
// Not a test file itself (node --test only runs *.test.js here).

/** WebSocket stand-in: records what the client sends; the test plays the server. */
export class FakeWebSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0; // CONNECTING
    this.sent = [];
    this.closed = null; // {code, reason} once the client closes it
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeWebSocket.instances.push(this);
  }

  static reset() {
    FakeWebSocket.instances = [];
  }

  static get last() {
    return FakeWebSocket.instances.at(-1);
  }

  send(data) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code, reason) {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  // ---- the server's side ----
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** setTimeout/setInterval on a manual clock: nothing runs until advance(). */
export class FakeClock {
  constructor() {
    this.now = 0;
    this._next = 1; // ids start at 1, as in browsers (ws.js tests ids for truthiness)
    this._timers = new Map(); // id -> {at, fn, every}
  }

  setTimeout(fn, ms = 0) {
    const id = this._next++;
    this._timers.set(id, { at: this.now + ms, fn, every: null });
    return id;
  }

  setInterval(fn, ms = 0) {
    const id = this._next++;
    this._timers.set(id, { at: this.now + ms, fn, every: ms });
    return id;
  }

  clearTimeout(id) {
    this._timers.delete(id);
  }

  clearInterval(id) {
    this._timers.delete(id);
  }

  /** Number of timers still scheduled. */
  get pending() {
    return this._timers.size;
  }

  /** Delays (from now) of the scheduled timers, ascending. */
  delays() {
    return [...this._timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Move time forward by `ms`, running every timer that comes due, in time order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of this._timers) {
        if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
      }
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === null) this._timers.delete(id);
      else t.at += Math.max(1, t.every);
      t.fn();
    }
    this.now = end;
  }
}
