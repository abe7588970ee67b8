// notify.js + store.revealPatch: a live signal's desktop notification depends on the signal, the
// permission and the tab's visibility — never on the view or filters — and its click shows it.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { shouldNotify } from '../notify.js';
import { defaultQuery, matchesQuery, revealPatch } from '../store.js';

const NOW = Date.parse('2026-12-01T03:00:00Z');
const sms = {
  id: '1764558000000-0',
  type: 'sms.received',
  count: 1,
  read: false,
  archived: false,
  snoozed_until: null,
  contact: { id: 'c-suzuki', name: '鈴木 美咲' },
};
const QUERIES = {
  inbox: defaultQuery(),
  otherContact: { ...defaultQuery(), contact: 'c-yamada', contactName: '山田 太郎' },
  otherType: { ...defaultQuery(), types: ['call.missed'] },
  unread: { ...defaultQuery(), unreadOnly: true },
  archived: { ...defaultQuery(), view: 'archived' },
  snoozed: { ...defaultQuery(), view: 'snoozed' },
  everything: { view: 'archived', types: ['email.opened'], unreadOnly: true, contact: 'c-yamada', contactName: '山田' },
};

test('a live signal notifies whatever the view shows (filters are not an input to the rule)', () => {
  const decide = (over = {}) =>
    shouldNotify({ enabled: true, permission: 'granted', hidden: true, replay: false, signal: sms, ...over });
  assert.equal(decide(), true);
  // A grouped repeat (count 3) or a snooze's end is news too: the frame puts it back unread.
  assert.equal(decide({ signal: { ...sms, count: 3 } }), true);
  for (const [k, v] of [['permission', 'denied'], ['permission', 'unsupported'], ['hidden', false], ['enabled', false], ['replay', true]]) {
    assert.equal(decide({ [k]: v }), false, `${k}=${v}`);
  }
});

test('revealPatch drops only the filters that hide the signal', () => {
  assert.equal(revealPatch(QUERIES.inbox, sms, NOW), null);
  assert.equal(revealPatch(QUERIES.unread, sms, NOW), null); // unread: it shows already
  assert.equal(revealPatch({ ...defaultQuery(), types: ['sms.received', 'call.missed'] }, sms, NOW), null);
  assert.deepEqual(revealPatch(QUERIES.otherContact, sms, NOW), { contact: null, contactName: null });
  assert.deepEqual(revealPatch(QUERIES.otherType, sms, NOW), { types: [] });
  assert.deepEqual(revealPatch(QUERIES.archived, sms, NOW), { view: 'inbox' });
  assert.deepEqual(revealPatch(QUERIES.snoozed, sms, NOW), { view: 'inbox' });
  assert.deepEqual(revealPatch(QUERIES.everything, sms, NOW), { view: 'inbox', types: [], contact: null, contactName: null });
  // Whatever the query, the patched one lists the signal.
  for (const [name, q] of Object.entries(QUERIES)) {
    assert.ok(matchesQuery(sms, { ...q, ...revealPatch(q, sms, NOW) }, NOW), name);
  }
});
