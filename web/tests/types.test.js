// types.js: the signal type catalogue, its order and its icons.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SIGNAL_TYPES, TYPE_NAMES, isKnownType, orderTypes, typeIcon, uiIcon } from '../types.js';

const BELL = uiIcon('bell');

test('the catalogue names each type once, as "<channel>.<event>"', () => {
  assert.ok(TYPE_NAMES.length > 0);
  assert.equal(new Set(TYPE_NAMES).size, TYPE_NAMES.length, 'no duplicates');
  for (const type of TYPE_NAMES) {
    assert.match(type, /^[a-z]+\.[a-z_]+$/);
    assert.equal(isKnownType(type), true, type);
  }
  for (const type of ['', 'email', 'Email.received', 'email.received ', undefined, 'custom.thing']) {
    assert.equal(isKnownType(type), false, String(type));
  }
});

test('every known type draws its own icon, not the fallback bell', () => {
  const seen = new Map();
  for (const { type, icon } of SIGNAL_TYPES) {
    const svg = typeIcon(type);
    assert.notEqual(svg, BELL, `${type}: icon "${icon}" is missing`);
    assert.match(svg, /^<svg [^>]*aria-hidden="true"[^>]*>.+<\/svg>$/);
    assert.ok(!seen.has(svg), `${type} draws the same icon as ${seen.get(svg)}`);
    seen.set(svg, type);
  }
});

test('unknown types and UI names fall back to the bell; size sets width and height', () => {
  assert.equal(typeIcon('custom.thing'), BELL);
  assert.equal(typeIcon(undefined), BELL);
  assert.equal(uiIcon('no-such-icon'), BELL);
  assert.notEqual(uiIcon('gear'), BELL);
  assert.notEqual(uiIcon('signal'), BELL);
  assert.match(typeIcon('sms.received', 32), /width="32" height="32"/);
  assert.match(uiIcon('gear'), /width="20" height="20"/);
});

test('orderTypes: catalogue order first, then extra types sorted and de-duplicated', () => {
  const out = orderTypes(['zeta.custom', 'desk.rating', 'alpha.custom', 'zeta.custom', 'email.received']);
  assert.deepEqual(out, [...TYPE_NAMES, 'alpha.custom', 'zeta.custom']);
  assert.deepEqual(orderTypes([]), TYPE_NAMES);
  assert.notEqual(orderTypes([]), TYPE_NAMES, 'a copy: callers may not mutate the catalogue');
  // The catalogue groups types by channel: all of a channel's types are adjacent.
  const channels = TYPE_NAMES.map((t) => t.split('.')[0]);
  const firstSeen = channels.filter((c, i) => channels.indexOf(c) === i);
  assert.deepEqual(channels, firstSeen.flatMap((c) => channels.filter((x) => x === c)));
});
