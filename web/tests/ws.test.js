// ws.js: backoff, URL, and SignalSocket's reconnect decisions, driven through a
// fake WebSocket and a fake clock (see fakes.js). The test plays the server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { CLOSE_BAD_TOKEN, SignalSocket, backoffDelay, wsUrlFor } from '../ws.js';
import { FakeClock, FakeWebSocket } from './fakes.js';

// Every event SignalSocket emits (see the header of ws.js).
const EVENTS = 'state open welcome signal live gap unread close retry auth-failed frame'.split(' ');

/** A socket on a fake clock, with jitter off (random = 0.5) and every event recorded. */
function setup(options = {}) {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  const sock = new SignalSocket({
    url: 'ws://gw.test/ws',
    token: 'sgu.acme.u1',
    WebSocketImpl: FakeWebSocket,
    timers: clock,
    random: () => 0.5,
    ...options,
  });
  const events = [];
  for (const type of EVENTS) sock.on(type, (payload) => events.push([type, payload]));
  const of = (type) => events.filter((e) => e[0] === type).map((e) => e[1]);
  return { sock, clock, events, of, sockets: () => FakeWebSocket.instances };
}

const sig = (id) => ({ id, type: 'survey.answered', title: `signal ${id}` });

/** The close codes the server sends, read from the CloseCode enum in gateway/live/protocol.py:
 *  {BAD_TOKEN: 4401, ...}. */
const protocolPy = readFileSync(new URL('../../gateway/live/protocol.py', import.meta.url), 'utf8');
const closeCodeEnum = protocolPy.split('class CloseCode(IntEnum):')[1].split('\n\n\n')[0];
const SERVER_CLOSE_CODES = Object.fromEntries(
  [...closeCodeEnum.matchAll(/^ {4}([A-Z_]+) = (\d+)$/gm)].map((m) => [m[1], +m[2]]),
);

/** Open the newest fake socket and let the server replay `ids`, then (optionally) say live. */
function serve(ids = [], { live = true } = {}) {
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'welcome', unread: 0 });
  for (const id of ids) ws.receive({ type: 'signal', signal: sig(id), cursor: id });
  if (live) ws.receive({ type: 'live' });
  return ws;
}

// ---- backoffDelay / wsUrlFor ---------------------------------------------------

test('backoffDelay doubles from min per attempt and caps at max (no jitter)', () => {
  const half = () => 0.5;
  const cases = [
    // attempt, min, max, want
    [0, 500, 15000, 500],
    [1, 500, 15000, 1000],
    [2, 500, 15000, 2000],
    [3, 500, 15000, 4000],
    [4, 500, 15000, 8000],
    [5, 500, 15000, 15000], // 16000 capped
    [6, 500, 15000, 15000],
    [1e9, 500, 15000, 15000], // no overflow to Infinity/NaN
    [Infinity, 500, 15000, 15000],
    [-3, 500, 15000, 500], // negative attempts count as 0
    [0, 1000, 15000, 1000], // app.js's REST retry bounds
    [3, 1000, 15000, 8000],
    [2, 100, 300, 300],
  ];
  for (const [attempt, min, max, want] of cases) {
    assert.equal(backoffDelay(attempt, min, max, half), want, `backoffDelay(${attempt}, ${min}, ${max})`);
  }
});

test('backoffDelay jitter stays within ±25 % of the step and inside [min, max]', () => {
  const randoms = [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999];
  for (let attempt = 0; attempt <= 8; attempt++) {
    const base = Math.min(15000, 500 * 2 ** attempt);
    let previous = -Infinity;
    for (const r of randoms) {
      const d = backoffDelay(attempt, 500, 15000, () => r);
      assert.ok(Number.isInteger(d), `${d} is an integer`);
      assert.ok(d >= Math.max(500, Math.round(base * 0.75)), `attempt ${attempt}, random ${r}: ${d} too small`);
      assert.ok(d <= Math.min(15000, Math.round(base * 1.25)), `attempt ${attempt}, random ${r}: ${d} too large`);
      assert.ok(d >= previous, 'grows with random()');
      previous = d;
    }
  }
  // The extremes, away from the clamps: 2000 ms ± 25 %.
  assert.equal(backoffDelay(2, 500, 15000, () => 0), 1500);
  assert.equal(backoffDelay(2, 500, 15000, () => 0.999999), 2500);
  // Clamped: jitter never goes below min or above max.
  assert.equal(backoffDelay(0, 500, 15000, () => 0), 500);
  assert.equal(backoffDelay(5, 500, 15000, () => 0.999999), 15000);
  assert.equal(backoffDelay(4, 500, 15000, () => 0.999999), 10000);
});

test('wsUrlFor: same host, wss on https', () => {
  const cases = [
    [{ protocol: 'https:', host: 'crm.example.com' }, 'wss://crm.example.com/ws'],
    [{ protocol: 'http:', host: '127.0.0.1:8000' }, 'ws://127.0.0.1:8000/ws'],
    [{ protocol: 'http:', host: '[::1]:8080' }, 'ws://[::1]:8080/ws'],
    [new URL('https://gw.example.org:8443/some/page?x=1#token=abc'), 'wss://gw.example.org:8443/ws'],
  ];
  for (const [loc, want] of cases) assert.equal(wsUrlFor(loc), want);
});

// ---- connecting and resuming -----------------------------------------------------

test('hello carries the token and `after` = the cursor it was given (none without a valid one)', () => {
  const cases = [
    ['1700000000000-3', '1700000000000-3'],
    [null, undefined],
    [undefined, undefined],
    ['bogus', undefined],
    ['', undefined],
  ];
  for (const [cursor, after] of cases) {
    const { sock, of, sockets } = setup({ cursor });
    sock.start();
    assert.equal(sockets().length, 1);
    assert.equal(sockets()[0].url, 'ws://gw.test/ws');
    assert.deepEqual(of('state'), ['connecting']);
    sockets()[0].open();
    const hello = { type: 'hello', token: 'sgu.acme.u1' };
    if (after) hello.after = after;
    assert.deepEqual(sockets()[0].sent, [hello], `cursor ${cursor}`);
    assert.deepEqual(of('open'), [{ after: after ?? null }]);
    sock.stop();
  }
});

test('signals are "replay" until `live`; the cursor follows the newest frame', () => {
  const { sock, of } = setup({ cursor: '5-0' });
  sock.start();
  const ws = serve(['6-0', '7-0'], { live: false });
  assert.equal(sock.cursor, '7-0');
  ws.receive({ type: 'live' });
  ws.receive({ type: 'signal', signal: sig('8-0'), cursor: '8-0' });
  assert.deepEqual(
    of('signal').map(({ signal, cursor, replay }) => [signal.id, cursor, replay]),
    [
      ['6-0', '6-0', true],
      ['7-0', '7-0', true],
      ['8-0', '8-0', false],
    ],
  );
  assert.deepEqual(of('state'), ['connecting', 'live']);
  assert.equal(of('live').length, 1);
  assert.equal(sock.cursor, '8-0');
});

test('the cursor never moves backwards, and comes from signal.id when a frame has none', () => {
  const cases = [
    // frames as [signal id, frame cursor], cursor afterwards
    [[['9-0', '9-0'], ['10-0', '10-0']], '10-0'], // numeric, not string, order
    [[['10-0', '10-0'], ['9-0', '9-0']], '10-0'], // an older frame does not rewind
    [[['12-0', undefined]], '12-0'], // no frame cursor: the signal id
    [[['3-0', '12-5']], '12-5'], // the frame cursor wins over the signal id
    [[['5-1', '5-10'], ['5-2', '5-9']], '5-10'],
  ];
  for (const [frames, want] of cases) {
    const { sock } = setup({ cursor: '1-0' });
    sock.start();
    const ws = serve();
    for (const [id, cursor] of frames) ws.receive({ type: 'signal', signal: sig(id), cursor });
    assert.equal(sock.cursor, want, JSON.stringify(frames));
    sock.stop();
  }
});

test('a reconnect resumes after the newest cursor seen, including one advanced from outside', () => {
  const { sock, clock, of, sockets } = setup({ cursor: '100-0' });
  sock.start();
  const ws1 = serve(['101-0', '102-0']);
  ws1.serverClose(1001, 'going away');
  clock.advance(500);
  assert.equal(sockets().length, 2);
  const ws2 = sockets()[1];
  ws2.open();
  assert.deepEqual(ws2.sent[0], { type: 'hello', token: 'sgu.acme.u1', after: '102-0' });
  ws2.receive({ type: 'signal', signal: sig('103-0'), cursor: '103-0' }); // missed while away
  ws2.receive({ type: 'live' });
  ws2.receive({ type: 'signal', signal: sig('104-0'), cursor: '104-0' });
  assert.deepEqual(
    of('signal').map(({ signal, replay }) => [signal.id, replay]),
    [
      ['101-0', true],
      ['102-0', true],
      ['103-0', true], // replay again on the new connection
      ['104-0', false],
    ],
  );

  // After a `gap`, app.js reloads over REST and moves the cursor to the page's newest id.
  sock.advanceCursor('150-0');
  sock.advanceCursor('120-0'); // older: ignored
  sock.advanceCursor(null);
  assert.equal(sock.cursor, '150-0');
  ws2.serverClose(1006, '');
  clock.advance(500);
  sockets()[2].open();
  assert.equal(sockets()[2].sent[0].after, '150-0');
});

// ---- close codes and backoff -----------------------------------------------------

test("CLOSE_BAD_TOKEN is the server's", () => {
  assert.equal(CLOSE_BAD_TOKEN, SERVER_CLOSE_CODES.BAD_TOKEN);
  assert.equal(CLOSE_BAD_TOKEN, 4401);
});

test('4401 (bad token): signed out, auth-failed, and no retry ever', () => {
  for (const afterLive of [false, true]) {
    const { sock, clock, of, sockets } = setup();
    sock.start();
    serve([], { live: afterLive });
    sockets()[0].serverClose(CLOSE_BAD_TOKEN, 'bad token');
    assert.equal(sock.state, 'signed-out');
    assert.deepEqual(of('auth-failed'), [{ code: 4401, reason: 'bad token' }]);
    assert.deepEqual(of('close'), [{ code: 4401, reason: 'bad token' }]);
    assert.deepEqual(of('retry'), []);
    assert.equal(clock.pending, 0, 'no timer left');
    clock.advance(10 * 60_000);
    sock.reconnectNow(); // e.g. the browser comes back online
    assert.equal(sockets().length, 1, 'never reconnects');
  }
});

test('every other close code retries after the backoff delay', () => {
  const server = Object.entries(SERVER_CLOSE_CODES).filter(([name]) => name !== 'BAD_TOKEN');
  assert.ok(server.length >= 4, 'read the close codes from gateway/live/protocol.py');
  // The server's (1001 going away, 1008 policy, 1013 try again, 4408 hello timeout), plus
  // 1000 normal, 1006 abnormal (network), 1011 server error and 4000 (our own drop).
  for (const code of new Set([...server.map(([, c]) => c), 1000, 1006, 1011, 4000])) {
    const { sock, clock, of, sockets } = setup();
    sock.start();
    serve();
    sockets()[0].serverClose(code, 'x');
    assert.deepEqual(of('close'), [{ code, reason: 'x' }], `code ${code}`);
    assert.deepEqual(of('retry'), [{ delay: 500, attempt: 1 }], `code ${code}`);
    assert.equal(sock.state, 'reconnecting');
    assert.deepEqual(of('auth-failed'), []);
    clock.advance(499);
    assert.equal(sockets().length, 1, `code ${code}: not before the delay`);
    clock.advance(1);
    assert.equal(sockets().length, 2, `code ${code}: reconnects after the delay`);
    assert.equal(sock.state, 'reconnecting', 'still "reconnecting" (not "connecting") until live');
    sock.stop();
  }
});

test('attempts grow while connections keep failing, and reset after a successful `live`', () => {
  const { sock, clock, of, sockets } = setup();
  sock.start();
  const fail = (how) => {
    const ws = FakeWebSocket.last;
    if (how === 'refused') ws.serverClose(1006);
    else if (how === 'before-live') {
      serve(['1-0'], { live: false }); // opened and replayed, but never reached live
      ws.serverClose(1013, 'try again');
    } else if (how === 'after-live') {
      serve();
      ws.serverClose(1001, 'going away');
    }
    const { delay } = of('retry').at(-1);
    clock.advance(delay);
  };
  for (const how of ['refused', 'refused', 'before-live', 'refused', 'refused', 'refused', 'refused']) fail(how);
  assert.deepEqual(
    of('retry').map((r) => [r.attempt, r.delay]),
    [
      [1, 500],
      [2, 1000],
      [3, 2000],
      [4, 4000],
      [5, 8000],
      [6, 15000],
      [7, 15000],
    ],
  );
  fail('after-live');
  fail('refused');
  const lastTwo = of('retry').slice(-2);
  assert.deepEqual(lastTwo.map((r) => [r.attempt, r.delay]), [[1, 500], [2, 1000]], 'back to attempt 1 after live');
  assert.equal(sockets().length, 10);
});

test('state: connecting → live → reconnecting → live; reconnects never say "connecting"', () => {
  const { sock, clock, of } = setup();
  sock.start();
  serve();
  FakeWebSocket.last.serverClose(1006);
  clock.advance(500);
  FakeWebSocket.last.serverClose(1006); // refused again
  clock.advance(1000);
  serve();
  sock.stop();
  sock.start(); // the last connection reached live: a fresh start, not a reconnect
  assert.deepEqual(of('state'), ['connecting', 'live', 'reconnecting', 'live', 'stopped', 'connecting']);
});

// ---- frames -------------------------------------------------------------------

test('frames from a socket that is no longer current are dropped', () => {
  const { sock, clock, of, sockets } = setup({ cursor: '1-0' });
  sock.start();
  const ws1 = serve(['2-0']);
  ws1.serverClose(1006);
  ws1.receive({ type: 'signal', signal: sig('3-0'), cursor: '3-0' }); // late, after its close
  ws1.receive({ type: 'live' });
  assert.equal(of('signal').length, 1);
  assert.equal(sock.cursor, '2-0');
  assert.equal(sock.state, 'reconnecting');

  clock.advance(500);
  const ws2 = serve();
  ws1.serverClose(1006); // a second close from the old socket
  ws1.onopen?.({});
  assert.equal(of('retry').length, 1, 'no extra retry');
  assert.equal(ws2.sent.length, 1, 'no second hello');
  assert.equal(sockets().length, 2);
  assert.equal(sock.state, 'live');
});

test('malformed frames are ignored; known frames are emitted; unknown ones go to "frame"', () => {
  const { sock, of } = setup({ cursor: '1-0' });
  sock.start();
  const ws = serve();
  for (const raw of ['not json', 'null', '42', '"text"', '{"type":"signal"}', '{"type":"signal","signal":"x"}']) {
    ws.receive(raw);
  }
  ws.receive({ type: 'unread', count: '3' });
  ws.receive({ type: 'unread', count: null });
  ws.receive({ type: 'pong' });
  assert.deepEqual(of('signal'), []);
  assert.deepEqual(of('unread'), []);
  assert.deepEqual(of('frame'), []);
  assert.equal(sock.cursor, '1-0');

  ws.receive({ type: 'unread', count: 0 });
  ws.receive({ type: 'unread', count: 7 });
  ws.receive({ type: 'gap', after: '1-0' });
  ws.receive({ type: 'surprise', x: 1 });
  assert.deepEqual(of('unread'), [0, 7]);
  assert.deepEqual(of('gap'), [{ type: 'gap', after: '1-0' }]);
  assert.deepEqual(of('frame'), [{ type: 'surprise', x: 1 }]);
  assert.deepEqual(of('welcome'), [{ type: 'welcome', unread: 0 }]);
  assert.equal(sock.state, 'live', 'none of this dropped the connection');
});

test('a repeated signal id is passed on (store.mergeSignal turns it into an update)', () => {
  const { sock, of } = setup();
  sock.start();
  const ws = serve();
  ws.receive({ type: 'signal', signal: { ...sig('4-0'), count: 1 }, cursor: '4-0' });
  ws.receive({ type: 'signal', signal: { ...sig('4-0'), count: 2 }, cursor: '5-0' }); // grouped: same id, newer cursor
  assert.deepEqual(of('signal').map(({ signal }) => signal.count), [1, 2]);
  assert.equal(sock.cursor, '5-0');
});

// ---- timeouts, pings, manual control -------------------------------------------------

test('a socket that does not open within connectTimeout is dropped (4000) and retried', () => {
  const { sock, clock, of, sockets } = setup({ connectTimeout: 15000 });
  sock.start();
  clock.advance(14999);
  assert.deepEqual(of('close'), []);
  clock.advance(1);
  assert.deepEqual(sockets()[0].closed, { code: 4000, reason: 'connect timeout' });
  assert.equal(sockets()[0].onmessage, null, 'handlers detached');
  assert.deepEqual(of('close'), [{ code: 4000, reason: 'connect timeout' }]);
  assert.deepEqual(of('retry'), [{ delay: 500, attempt: 1 }]);
  clock.advance(500);
  assert.equal(sockets().length, 2);
  serve();
  clock.advance(20_000); // opened in time: its connect timeout was cancelled (first ping is at 25 s)
  assert.equal(sockets()[1].closed, null);
  assert.equal(of('close').length, 1);
});

test('pings every pingEvery; no traffic within pongTimeout drops the socket; any frame counts', () => {
  const { sock, clock, of, sockets } = setup({ pingEvery: 25000, pongTimeout: 10000 });
  sock.start();
  const ws = serve();
  const pings = () => ws.sent.filter((f) => f.type === 'ping').length;
  clock.advance(24999);
  assert.equal(pings(), 0);
  clock.advance(1);
  assert.equal(pings(), 1);
  clock.advance(9000);
  ws.receive({ type: 'pong' });
  clock.advance(15999); // t = 49999
  assert.equal(ws.closed, null);
  clock.advance(1); // second ping at 50000
  assert.equal(pings(), 2);
  clock.advance(5000);
  ws.receive({ type: 'unread', count: 1 }); // any traffic proves the connection alive
  clock.advance(20000); // t = 75000: third ping, not answered
  assert.equal(pings(), 3);
  clock.advance(9999);
  assert.equal(ws.closed, null);
  clock.advance(1);
  assert.deepEqual(ws.closed, { code: 4000, reason: 'pong timeout' });
  assert.deepEqual(of('retry'), [{ delay: 500, attempt: 1 }]);
  assert.equal(sock.state, 'reconnecting');
  clock.advance(500);
  assert.equal(sockets().length, 2);
});

test('reconnectNow skips the backoff wait; on an open socket it only probes with a ping', () => {
  const { sock, clock, sockets } = setup();
  sock.start();
  const ws1 = serve();
  sock.reconnectNow();
  assert.equal(sockets().length, 1);
  assert.deepEqual(ws1.sent.at(-1), { type: 'ping' });

  for (let i = 0; i < 4; i++) {
    FakeWebSocket.last.serverClose(1006);
    clock.advance(clock.delays()[0]);
  }
  FakeWebSocket.last.serverClose(1006); // now waiting 8000 ms
  assert.deepEqual(clock.delays(), [8000]);
  sock.reconnectNow();
  assert.equal(sockets().length, 6, 'connects at once');
  assert.deepEqual(clock.delays(), [15000], 'the retry timer is gone; only the connect timeout is left');
  sock.reconnectNow(); // still connecting: nothing to do
  assert.equal(sockets().length, 6);
});

test('a second ping while a pong is awaited keeps one deadline, which any answer clears', () => {
  for (const answered of [false, true]) {
    const { sock, clock } = setup({ pingEvery: 25000, pongTimeout: 10000 });
    sock.start();
    const ws = serve();
    clock.advance(25000); // ping; pong due by 35000
    clock.advance(5000);
    sock.reconnectNow(); // probe: another ping
    assert.equal(ws.sent.filter((f) => f.type === 'ping').length, 2);
    if (answered) ws.receive({ type: 'pong' });
    clock.advance(4999);
    assert.equal(ws.closed, null);
    clock.advance(1); // 35000: the first deadline holds, unless answered
    assert.deepEqual(ws.closed, answered ? null : { code: 4000, reason: 'pong timeout' });
    clock.advance(14999); // just before the next ping
    assert.deepEqual(ws.closed, answered ? null : { code: 4000, reason: 'pong timeout' });
  }
});

test('stop() closes with 1000, cancels every timer, and ignores the old socket afterwards', () => {
  const { sock, clock, of, sockets } = setup({ cursor: '3-0' });
  sock.start();
  sock.start(); // already started: no second socket
  assert.equal(sockets().length, 1);
  const ws = serve(['4-0']);
  clock.advance(25000); // a ping is out, waiting for its pong
  sock.stop();
  assert.deepEqual(ws.closed, { code: 1000, reason: 'client stop' });
  assert.equal(sock.state, 'stopped');
  assert.equal(clock.pending, 0);
  ws.receive({ type: 'signal', signal: sig('5-0'), cursor: '5-0' });
  ws.serverClose(1000);
  assert.equal(sock.cursor, '4-0');
  assert.deepEqual(of('retry'), []);
  clock.advance(10 * 60_000);
  sock.reconnectNow();
  assert.equal(sockets().length, 1);
  assert.equal(sock.send({ type: 'ping' }), false);

  // Stopped while waiting to retry: the retry never happens.
  sock.start();
  assert.equal(sockets().length, 2);
  sockets()[1].open();
  assert.equal(sockets()[1].sent[0].after, '4-0', 'start() again resumes from the cursor');
  sockets()[1].serverClose(1006);
  sock.stop();
  clock.advance(60_000);
  assert.equal(sockets().length, 2);
  assert.equal(of('retry').length, 1);
});

test('a WebSocket constructor that throws is retried like a failed connection', (t) => {
  const error = t.mock.method(console, 'error', () => {});
  let fail = true;
  class Flaky extends FakeWebSocket {
    constructor(url) {
      if (fail) throw new SyntaxError('bad url');
      super(url);
    }
  }
  const { sock, clock, of, sockets } = setup({ WebSocketImpl: Flaky });
  sock.start();
  assert.equal(error.mock.callCount(), 1);
  assert.deepEqual(of('retry'), [{ delay: 500, attempt: 1 }]);
  assert.equal(sock.state, 'reconnecting');
  fail = false;
  clock.advance(500);
  assert.equal(sockets().length, 1);
  serve();
  assert.equal(sock.state, 'live');
});

test('a throwing handler does not stop the others or the socket', (t) => {
  const error = t.mock.method(console, 'error', () => {});
  const { sock, of } = setup();
  sock.on('signal', () => {
    throw new Error('boom');
  });
  const seen = [];
  sock.on('signal', ({ signal }) => seen.push(signal.id));
  sock.start();
  serve(['1-0', '2-0']);
  assert.deepEqual(seen, ['1-0', '2-0']);
  assert.equal(of('signal').length, 2);
  assert.equal(error.mock.callCount(), 2);
  assert.equal(sock.cursor, '2-0');
  assert.equal(sock.state, 'live');
});

test('on() returns an unsubscribe function', () => {
  const { sock } = setup();
  const got = [];
  const off = sock.on('state', (s) => got.push(s));
  sock.start();
  off();
  serve();
  assert.deepEqual(got, ['connecting']);
});

test('send and sendRead write JSON only while the socket is open', () => {
  const { sock } = setup();
  assert.equal(sock.sendRead({ ids: ['1-0'] }), false, 'not started');
  sock.start();
  assert.equal(sock.sendRead({ ids: ['1-0'] }), false, 'still connecting');
  const ws = serve();
  assert.equal(sock.sendRead({ ids: ['1-0', '2-0'] }), true);
  assert.equal(sock.sendRead({ up_to: '9-0' }), true);
  assert.deepEqual(ws.sent.slice(1), [
    { type: 'read', ids: ['1-0', '2-0'] },
    { type: 'read', up_to: '9-0' },
  ]);
  ws.serverClose(1006);
  assert.equal(sock.send({ type: 'ping' }), false);
});
