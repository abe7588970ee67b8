// ids.js: Redis stream ids compared as numbers (ms, seq), never as strings.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { compareIds, idTime, isValidId, maxId, parseId } from '../ids.js';

test('parseId accepts "<ms>-<seq>" and "<ms>", exactly, beyond Number precision', () => {
  const cases = [
    ['1-0', [1n, 0n]],
    ['1700000000000-5', [1700000000000n, 5n]],
    ['42', [42n, 0n]],
    [42, [42n, 0n]],
    ['  7-3 ', [7n, 3n]],
    ['18446744073709551615-18446744073709551615', [18446744073709551615n, 18446744073709551615n]],
    ['1700000000000-9007199254740993', [1700000000000n, 9007199254740993n]],
  ];
  for (const [id, want] of cases) assert.deepEqual(parseId(id), want, `parseId(${JSON.stringify(id)})`);
});

test('parseId rejects everything else', () => {
  const invalid = [null, undefined, '', ' ', '-', '1-', '-1', 'a-1', '1-b', '1-2-3', '1.5-0', '0x10', '+1-0', '1 -0'];
  for (const id of [...invalid, '$', '*']) {
    assert.equal(parseId(id), null, `parseId(${JSON.stringify(id)})`);
    assert.equal(isValidId(id), false, `isValidId(${JSON.stringify(id)})`);
  }
  assert.equal(isValidId('0-1'), true);
});

test('compareIds orders by (ms, seq) numerically', () => {
  const cases = [
    // a, b, want
    ['9-0', '10-0', -1], // as strings "9-0" > "10-0"
    ['10-0', '9-0', 1],
    ['5-9', '5-10', -1], // equal ms: seq decides, numerically
    ['5-10', '5-9', 1],
    ['5-3', '5-3', 0],
    ['5', '5-0', 0], // a bare ms means seq 0
    ['6-0', '5-999', 1], // ms decides before seq
    // equal ms, sequence numbers that Number cannot tell apart (2**53 + 1 vs 2**53)
    ['1700000000000-9007199254740993', '1700000000000-9007199254740992', 1],
    ['1700000000000-9007199254740992', '1700000000000-9007199254740993', -1],
    // ms past 2**64 still compares exactly
    ['18446744073709551616-0', '18446744073709551615-99', 1],
  ];
  for (const [a, b, want] of cases) assert.equal(compareIds(a, b), want, `compareIds(${a}, ${b})`);
});

test('compareIds puts invalid ids before every valid one, equal to each other', () => {
  assert.equal(compareIds(null, '0-0'), -1);
  assert.equal(compareIds('0-0', 'bogus'), 1);
  assert.equal(compareIds(undefined, 'bogus'), 0);
  const sorted = ['10-0', 'x', '9-1', '9-0', null, '100-0'].sort(compareIds);
  assert.deepEqual(sorted.slice(2), ['9-0', '9-1', '10-0', '100-0']);
  assert.deepEqual(new Set(sorted.slice(0, 2)), new Set(['x', null]));
});

test('maxId picks the larger id and ignores null/undefined/invalid arguments', () => {
  const cases = [
    [null, null, null],
    [undefined, null, null],
    ['bogus', undefined, null],
    [null, '3-0', '3-0'],
    ['3-0', null, '3-0'],
    ['3-0', 'bogus', '3-0'],
    ['bogus', '3-0', '3-0'],
    ['9-0', '10-0', '10-0'],
    ['10-0', '9-0', '10-0'],
    ['5-10', '5-9', '5-10'],
    ['1700000000000-9007199254740992', '1700000000000-9007199254740993', '1700000000000-9007199254740993'],
    [7, null, '7'], // numbers come back as strings
    [null, 7, '7'],
    ['5-0', '5', '5-0'], // equal: the first one
  ];
  for (const [a, b, want] of cases) assert.equal(maxId(a, b), want, `maxId(${a}, ${b})`);
});

test('idTime gives the milliseconds part, NaN for invalid ids', () => {
  assert.equal(idTime('1700000000123-4'), 1700000000123);
  assert.equal(idTime('1700000000123'), 1700000000123);
  assert.ok(Number.isNaN(idTime('nope')));
  assert.ok(Number.isNaN(idTime(null)));
});
