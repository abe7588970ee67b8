// store.js: the signal list, ascending by stream id, never mutated in place.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  MAX_SIGNALS,
  findSignal,
  markRead,
  markReadUpTo,
  mergeSignal,
  newestId,
  normalizeSignals,
  replaceWithPage,
  setReadFlag,
  trimOldest,
  visibleSignals,
} from '../store.js';

const sig = (id, extra = {}) => ({ id, type: 'survey.answered', read: false, ...extra });
const ids = (list) => list.map((s) => s.id);
/** Deep-freeze a list so any in-place mutation throws. */
const frozen = (list) => Object.freeze(list.map((s) => Object.freeze({ ...s })));

test('mergeSignal inserts a new id at its numeric position', () => {
  const cases = [
    // existing ids, new id, resulting ids
    [[], '5-0', ['5-0']],
    [['1-0', '3-0'], '2-0', ['1-0', '2-0', '3-0']],
    [['1-0', '3-0'], '0-9', ['0-9', '1-0', '3-0']],
    [['1-0', '3-0'], '4-0', ['1-0', '3-0', '4-0']],
    [['9-0'], '10-0', ['9-0', '10-0']], // not string order
    [['5-2', '5-10'], '5-9', ['5-2', '5-9', '5-10']], // equal ms, seq decides
    [['1700000000000-9007199254740992'], '1700000000000-9007199254740993',
      ['1700000000000-9007199254740992', '1700000000000-9007199254740993']],
  ];
  for (const [before, id, after] of cases) {
    const list = frozen(before.map((i) => sig(i)));
    const res = mergeSignal(list, sig(id));
    assert.equal(res.change, 'insert', `insert ${id} into ${before}`);
    assert.deepEqual(ids(res.list), after, `insert ${id} into ${before}`);
    assert.deepEqual(ids(list), before, 'input list untouched');
  }
});

test('mergeSignal replaces a grouped signal in place (same id, new count)', () => {
  const list = frozen([sig('1-0'), sig('2-0', { count: 1, title: 'old' }), sig('3-0')]);
  const res = mergeSignal(list, sig('2-0', { count: 4, title: 'new' }));
  assert.equal(res.change, 'update');
  assert.deepEqual(ids(res.list), ['1-0', '2-0', '3-0'], 'stays where it was, not moved to the top');
  assert.equal(res.list[1].count, 4);
  assert.equal(res.list[1].title, 'new');
  assert.equal(list[1].count, 1, 'the old object is not modified');
  assert.equal(res.list[0], list[0], 'other entries are shared, not copied');
});

test('mergeSignal matches ids numerically and stores them as strings', () => {
  const res = mergeSignal([sig('5-0')], { id: '5', count: 2 });
  assert.equal(res.change, 'update');
  assert.equal(res.list.length, 1);
  const num = mergeSignal([], { id: 7 });
  assert.equal(num.list[0].id, '7');
});

test('mergeSignal ignores signals without a valid id', () => {
  const list = [sig('1-0')];
  for (const bad of [null, undefined, {}, { id: 'x' }, { id: '' }]) {
    const res = mergeSignal(list, bad);
    assert.equal(res.change, 'none');
    assert.equal(res.list, list);
  }
});

test('normalizeSignals sorts and de-duplicates, the last occurrence winning', () => {
  const out = normalizeSignals([sig('10-0', { n: 1 }), sig('9-0'), sig('10-0', { n: 2 }), { id: 'bad' }, sig('1-5')]);
  assert.deepEqual(ids(out), ['1-5', '9-0', '10-0']);
  assert.equal(out[2].n, 2);
  assert.deepEqual(normalizeSignals(null), []);
  assert.deepEqual(normalizeSignals({ id: '1-0' }), []);
});

test('findSignal finds by numeric id equality', () => {
  const list = normalizeSignals(['1-0', '2-0', '10-0', '11-3'].map((i) => sig(i)));
  assert.equal(findSignal(list, '10-0').id, '10-0');
  assert.equal(findSignal(list, '11-3').id, '11-3');
  assert.equal(findSignal(list, '2').id, '2-0');
  assert.equal(findSignal(list, '3-0'), null);
  assert.equal(findSignal(list, '99-0'), null);
  assert.equal(findSignal([], '1-0'), null);
});

test('trimOldest keeps the newest `max` entries', () => {
  const list = normalizeSignals(['1-0', '2-0', '3-0', '4-0'].map((i) => sig(i)));
  const cases = [
    [10, ['1-0', '2-0', '3-0', '4-0']],
    [4, ['1-0', '2-0', '3-0', '4-0']],
    [3, ['2-0', '3-0', '4-0']],
    [1, ['4-0']],
  ];
  for (const [max, want] of cases) assert.deepEqual(ids(trimOldest(list, max)), want, `max ${max}`);
  assert.equal(trimOldest(list, 4), list, 'no copy when nothing is dropped');

  const big = Array.from({ length: MAX_SIGNALS + 2 }, (_, i) => sig(`${i + 1}-0`));
  const trimmed = trimOldest(big);
  assert.equal(trimmed.length, MAX_SIGNALS);
  assert.equal(trimmed[0].id, '3-0');
  assert.equal(newestId(trimmed), `${MAX_SIGNALS + 2}-0`);
});

test('newestId is the last id or null', () => {
  assert.equal(newestId([]), null);
  assert.equal(newestId([sig('1-0'), sig('2-0')]), '2-0');
});

test('replaceWithPage takes the page and keeps only socket arrivals newer than it', () => {
  const current = frozen(['1-0', '2-0', '5-0', '7-0', '8-0', '9-0'].map((i) => sig(i, { from: 'socket' })));
  const page = ['7-0', '5-0', '6-0'].map((i) => sig(i, { from: 'page' }));
  const out = replaceWithPage(current, page);
  assert.deepEqual(ids(out), ['5-0', '6-0', '7-0', '8-0', '9-0']);
  assert.equal(findSignal(out, '5-0').from, 'page', 'the page wins for ids it has');
  assert.equal(findSignal(out, '7-0').from, 'page', '... including its newest one');
  assert.equal(findSignal(out, '9-0').from, 'socket');
  // An empty page keeps everything the socket delivered.
  assert.deepEqual(ids(replaceWithPage(current, [])), ['1-0', '2-0', '5-0', '7-0', '8-0', '9-0']);
});

test('markRead marks the given ids only and leaves other objects as they were', () => {
  const list = frozen([sig('1-0'), sig('2-0', { read: true }), sig('3-0'), sig('10-0')]);
  const out = markRead(list, ['1-0', '2-0', '10-0', '77-0']);
  assert.deepEqual(out.map((s) => s.read), [true, true, false, true]);
  assert.equal(out[1], list[1], 'already read: same object');
  assert.equal(out[2], list[2], 'not listed: same object');
  assert.deepEqual(markRead(list, null).map((s) => s.read), [false, true, false, false]);
});

test('markReadUpTo marks every unread id <= upTo, numerically', () => {
  const list = frozen(['1-0', '5-3', '5-10', '9-0', '10-0'].map((i) => sig(i)));
  const cases = [
    ['0-0', [false, false, false, false, false]],
    ['5-3', [true, true, false, false, false]],
    ['5-9', [true, true, false, false, false]],
    ['5-10', [true, true, true, false, false]],
    ['9-0', [true, true, true, true, false]], // "10-0" > "9-0" although it sorts first as a string
    ['10', [true, true, true, true, true]],
  ];
  for (const [upTo, want] of cases) {
    assert.deepEqual(markReadUpTo(list, upTo).map((s) => s.read), want, `up to ${upTo}`);
  }
});

test('setReadFlag sets or clears one read flag', () => {
  const list = frozen([sig('1-0', { read: true }), sig('2-0')]);
  const unread = setReadFlag(list, '1-0', false);
  assert.deepEqual(unread.map((s) => s.read), [false, false]);
  assert.equal(unread[1], list[1]);
  const same = setReadFlag(list, '2-0', false);
  assert.equal(same[1], list[1], 'no change: same object');
  assert.deepEqual(setReadFlag(list, '2-0', true).map((s) => s.read), [true, true]);
});

test('visibleSignals: newest first, filtered by type and unread, `keep` survives unread-only', () => {
  const list = normalizeSignals([
    sig('1-0', { type: 'email.received', read: true }),
    sig('2-0', { type: 'sms.received' }),
    sig('3-0', { type: 'email.received' }),
    sig('4-0', { type: 'sms.received', read: true }),
    sig('10-0', { type: 'email.received', read: true }),
  ]);
  const cases = [
    [undefined, ['10-0', '4-0', '3-0', '2-0', '1-0']],
    [{ type: 'all' }, ['10-0', '4-0', '3-0', '2-0', '1-0']],
    [{ type: 'email.received' }, ['10-0', '3-0', '1-0']],
    [{ type: 'call.missed' }, []],
    [{ unreadOnly: true }, ['3-0', '2-0']],
    [{ type: 'sms.received', unreadOnly: true }, ['2-0']],
    [{ unreadOnly: true, keep: new Set(['4-0']) }, ['4-0', '3-0', '2-0']],
    [{ unreadOnly: false, keep: new Set(['4-0']) }, ['10-0', '4-0', '3-0', '2-0', '1-0']],
    [{ type: 'email.received', unreadOnly: true, keep: new Set(['4-0', '10-0']) }, ['10-0', '3-0']],
  ];
  for (const [opts, want] of cases) assert.deepEqual(ids(visibleSignals(list, opts)), want, JSON.stringify(opts));
});
