// store.js's feed state: server-side query params, what belongs in a view, older pages without
// duplicates, `state` frames applied in place; route.js's address parsing; the badge text.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  applyState,
  badgeText,
  contactFilter,
  defaultQuery,
  feedParams,
  matchesQuery,
  mergeOlder,
  noContactFilter,
  normalizeSignals,
} from '../store.js';
import { parseHash } from '../route.js';
import { shouldNotify } from '../notify.js';
import { fillTemplate, templateFields } from '../controller.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const sig = (id, extra = {}) => ({ id, type: 'survey.answered', read: false, archived: false, snoozed_until: null, ...extra });
const ids = (list) => list.map((s) => s.id);
const q = (extra = {}) => ({ ...defaultQuery(), ...extra });

test('feedParams sends every filter to the server (never filtered locally)', () => {
  assert.equal(feedParams(q()), 'limit=50');
  assert.equal(
    feedParams(q({ view: 'archived', types: ['sms.received', 'call.missed'], unreadOnly: true, contact: 'c9' }), { before: '5-0', limit: 20 }),
    'before=5-0&limit=20&view=archived&type=call.missed%2Csms.received&unread=true&contact=c9',
  );
  assert.equal(feedParams(q({ view: 'snoozed' }), { after: '7-1' }), 'after=7-1&limit=50&view=snoozed');
});

test('matchesQuery: inbox / archived / snoozed, type, unread and contact', () => {
  const later = '2026-12-01T05:00:00Z';
  const past = '2026-11-30T05:00:00Z';
  const cases = [
    [sig('1-0'), q(), true],
    [sig('1-0', { archived: true }), q(), false],
    [sig('1-0', { snoozed_until: later }), q(), false],
    [sig('1-0', { snoozed_until: past }), q(), true], // woke up
    [sig('1-0', { archived: true }), q({ view: 'archived' }), true],
    [sig('1-0'), q({ view: 'archived' }), false],
    [sig('1-0', { snoozed_until: later }), q({ view: 'snoozed' }), true],
    [sig('1-0', { snoozed_until: past }), q({ view: 'snoozed' }), false],
    [sig('1-0', { type: 'sms.received' }), q({ types: ['sms.received'] }), true],
    [sig('1-0'), q({ types: ['sms.received'] }), false],
    [sig('1-0', { read: true }), q({ unreadOnly: true }), false],
    [sig('1-0', { contact: { id: 'c9' } }), q({ contact: 'c9' }), true],
    [sig('1-0', { contact: null }), q({ contact: 'c9' }), false],
  ];
  for (const [s, query, want] of cases) assert.equal(matchesQuery(s, query, NOW), want, JSON.stringify([s, query]));
});

test('contact filter: "Show only this contact" narrows the query, combined with the other filters and paging', () => {
  const yamada = sig('3-0', { contact: { id: 'c-yamada', name: '山田 太郎' } });
  assert.deepEqual(contactFilter(yamada), { contact: 'c-yamada', contactName: '山田 太郎' });
  assert.deepEqual(contactFilter(sig('3-0', { contact: { id: 42, name: ' ' } })), { contact: '42', contactName: '42' });
  assert.equal(contactFilter(sig('3-0', { contact: null })), null);
  assert.equal(contactFilter(sig('3-0')), null);
  const query = { ...q({ types: ['desk.ticket'], unreadOnly: true }), ...contactFilter(yamada) };
  // older pages and refills ask the server for the same contact; the chip's name is not sent
  assert.equal(feedParams(query, { before: '3-0' }), 'before=3-0&limit=50&type=desk.ticket&unread=true&contact=c-yamada');
  // live signals: another contact's stays out of the filtered list, the contact's own comes in
  const live = (contact, extra = {}) => sig('9-0', { type: 'desk.ticket', contact, ...extra });
  assert.equal(matchesQuery(live({ id: 'c-yamada' }), query, NOW), true);
  assert.equal(matchesQuery(live({ id: 'c-suzuki' }), query, NOW), false);
  assert.equal(matchesQuery(live({ id: 'c-yamada' }, { type: 'sms.received' }), query, NOW), false);
  assert.equal(matchesQuery(live(null), query, NOW), false);
  assert.equal(matchesQuery(sig('9-0', { contact: { id: 42 } }), q({ contact: '42' }), NOW), true); // numeric ids
  const cleared = { ...query, ...noContactFilter() };
  assert.equal(feedParams(cleared), 'limit=50&type=desk.ticket&unread=true');
  assert.equal(matchesQuery(live({ id: 'c-suzuki' }), cleared, NOW), true);
});

test('mergeOlder adds an older page once: overlapping and repeated pages never duplicate', () => {
  let list = normalizeSignals([sig('10-0'), sig('11-0'), sig('12-0')]);
  let r = mergeOlder(list, [sig('8-0'), sig('9-0'), sig('10-0')]);
  assert.deepEqual(ids(r.list), ['8-0', '9-0', '10-0', '11-0', '12-0']);
  assert.equal(r.added, 2);
  r = mergeOlder(r.list, [sig('8-0'), sig('9-0')]);
  assert.equal(r.added, 0);
  assert.equal(r.list.length, 5);
});

test('applyState: only the fields sent change; items leaving the view go unless kept', () => {
  const list = Object.freeze([sig('1-0'), sig('2-0'), sig('3-0')].map(Object.freeze));
  let r = applyState(list, { ids: ['2-0', '9-0'], read: true }, q(), { now: NOW });
  assert.deepEqual(r.list.map((s) => s.read), [false, true, false]);
  assert.deepEqual(r.changed, ['2-0']);
  assert.equal(r.list[1].archived, false, 'untouched field');
  r = applyState(list, { ids: ['1-0', '3-0'], archived: true }, q(), { now: NOW });
  assert.deepEqual(ids(r.list), ['2-0']);
  assert.deepEqual(r.removed, ['1-0', '3-0']);
  r = applyState(list, { ids: ['1-0'], read: true }, q({ unreadOnly: true }), { now: NOW, keep: new Set(['1-0']) });
  assert.deepEqual(ids(r.list), ['1-0', '2-0', '3-0'], 'kept under the pointer');
  r = applyState(list, { ids: ['2-0'], snoozed_until: '2026-12-02T00:00:00Z' }, q({ view: 'archived' }), { now: NOW });
  assert.deepEqual(ids(r.list), ['1-0', '3-0']);
  r = applyState(list, { ids: ['3-0'], acted: { action: 'sms', notification: 'n1' } }, q(), { now: NOW });
  assert.equal(r.list[2].acted.notification, 'n1');
  assert.equal(applyState(list, { ids: ['1-0'] }, q()).list[0], list[0], 'no fields: nothing changes');
});

test('badgeText: empty for none, the number to 99, then 99+', () => {
  assert.deepEqual([0, -3, 'x', 1, 42, 99, 100, 5000].map(badgeText), ['', '', '', '1', '42', '99', '99+', '99+']);
});

test('parseHash: token (percent-decoded, "+" kept) and the route', () => {
  assert.deepEqual(parseHash('#token=sgu.a%2Bb+c'), { token: 'sgu.a+b+c', route: { name: 'feed', id: null }, rest: '' });
  assert.deepEqual(parseHash('#token=t&/admin/usage'), { token: 't', route: { name: 'admin', id: 'usage' }, rest: '/admin/usage' });
  assert.deepEqual(parseHash('#/admin/'), { token: null, route: { name: 'admin', id: null }, rest: '/admin/' });
  assert.deepEqual(parseHash('#/admin/../x').route, { name: 'feed', id: null });
  assert.deepEqual(parseHash('').route, { name: 'feed', id: null });
});

test('shouldNotify: only live unread inbox signals, permission granted, switched on, page hidden', () => {
  const signal = { id: '1-0', type: 'sms.received', read: false, archived: false, snoozed_until: null };
  const ok = { enabled: true, permission: 'granted', hidden: true, replay: false, signal };
  assert.equal(shouldNotify(ok), true);
  for (const [k, v] of [['enabled', false], ['permission', 'default'], ['hidden', false], ['replay', true], ['signal', null]]) {
    assert.equal(shouldNotify({ ...ok, [k]: v }), false, k);
  }
  for (const [k, v] of [['read', true], ['archived', true], ['snoozed_until', '2099-01-01T00:00:00Z']]) {
    assert.equal(shouldNotify({ ...ok, signal: { ...signal, [k]: v } }), false, k);
  }
});

test('templateFields and fillTemplate: declared fields or {{x}} / {x} in the body', () => {
  assert.deepEqual(templateFields({ fields: ['name', { name: 'date' }, { key: 'room' }] }), ['name', 'date', 'room']);
  assert.deepEqual(templateFields({ body: '{{name}}様 {date} {{ name }}' }), ['name', 'date']);
  assert.equal(fillTemplate('{{name}}様、{date}に', { name: '山田', date: '' }), '山田様、{date}に');
});
