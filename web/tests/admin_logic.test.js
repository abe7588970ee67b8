// web/admin/logic.js: the admin console's pure logic (zones, shaping, queries, file names, strings).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ADMIN_STRINGS } from '../admin/strings.js';
import {
  addDays,
  autoRechargeBody,
  callsFilename,
  callsQuery,
  dispositionFilename,
  dayInZone,
  errorField,
  errorMessage,
  filterCalls,
  formatDuration,
  formatInZone,
  mailboxChanges,
  mailboxPort,
  mailboxTone,
  nextLocalMidnight,
  reportCells,
  reportQuery,
  reportSeries,
  resetInstant,
  resetLabel,
  templateActions,
  templateChips,
  tr,
  usageBars,
} from '../admin/logic.js';

test('every admin string exists in both languages and is not empty', () => {
  const ja = Object.keys(ADMIN_STRINGS.ja).sort();
  const en = Object.keys(ADMIN_STRINGS.en).sort();
  assert.deepEqual(ja, en);
  for (const lang of ['ja', 'en']) {
    for (const [k, v] of Object.entries(ADMIN_STRINGS[lang])) {
      assert.ok(k.startsWith('admin.'), k);
      assert.ok(typeof v === 'string' && v.trim(), `${lang} ${k}`);
    }
  }
});

test('tr fills variables and falls back to English, then the key', () => {
  assert.equal(tr('ja', 'admin.usage.count', { used: 3, limit: 600 }), '3 / 600 通');
  assert.equal(tr('en', 'admin.usage.count', { used: 3, limit: 600 }), '3 of 600 emails');
  assert.equal(tr('fr', 'admin.nav'), 'Admin');
  assert.equal(tr('ja', 'admin.nope'), 'admin.nope');
});

test('the next local midnight is in the org zone, across dates and DST', () => {
  // 2026-11-30 20:00 UTC is 2026-12-01 05:00 in Tokyo: the next midnight is 12-02 00:00 JST.
  const now = Date.UTC(2026, 10, 30, 20, 0);
  assert.equal(new Date(nextLocalMidnight(now, 'Asia/Tokyo')).toISOString(), '2026-12-01T15:00:00.000Z');
  assert.equal(new Date(nextLocalMidnight(now, 'UTC')).toISOString(), '2026-12-01T00:00:00.000Z');
  // New York on the day DST ends (2026-11-01): midnight after is EST (UTC-5).
  const ny = Date.UTC(2026, 10, 1, 12, 0);
  assert.equal(new Date(nextLocalMidnight(ny, 'America/New_York')).toISOString(), '2026-11-02T05:00:00.000Z');
  // ... and the day DST starts (2026-03-08): midnight after is EDT (UTC-4).
  const spring = Date.UTC(2026, 2, 8, 12, 0);
  assert.equal(new Date(nextLocalMidnight(spring, 'America/New_York')).toISOString(), '2026-03-09T04:00:00.000Z');
  // India: UTC+5:30.
  assert.equal(new Date(nextLocalMidnight(now, 'Asia/Kolkata')).toISOString(), '2026-12-01T18:30:00.000Z');
});

test('the reset instant follows the API, else the zone; labelled with the zone', () => {
  const now = Date.UTC(2026, 10, 30, 20, 0);
  assert.equal(resetInstant({ resets_in_seconds: 3600, timezone: 'Asia/Tokyo' }, now), now + 3_600_000);
  assert.equal(resetInstant({ timezone: 'Asia/Tokyo' }, now), Date.UTC(2026, 11, 1, 15, 0));
  const email = { timezone: 'Asia/Tokyo', resets_in_seconds: 19 * 3600 };
  const ja = resetLabel(email, now, 'ja');
  assert.match(ja, /^リセット: 2026\/12\/02 0:00（Asia\/Tokyo）$/);
  const en = resetLabel(email, now, 'en');
  assert.match(en, /^Resets Dec 2, 2026, 12:00\sAM \(Asia\/Tokyo\)$/);
  assert.equal(formatInZone(Date.UTC(2026, 0, 1, 0, 0), 'America/Los_Angeles', 'ja'), '2025/12/31 16:00');
});

test('days in a zone and date arithmetic', () => {
  assert.equal(dayInZone(Date.UTC(2026, 10, 30, 20, 0), 'Asia/Tokyo'), '2026-12-01');
  assert.equal(dayInZone(Date.UTC(2026, 10, 30, 20, 0), 'America/New_York'), '2026-11-30');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
});

test('usage bars: used against limit, percent capped, free plan has no mass limit', () => {
  const bars = usageBars({ email: { individual: { used: 150, limit: 600 }, mass: { used: 260, limit: 250 } } });
  assert.deepEqual(bars.map((b) => [b.key, b.used, b.limit, b.pct, b.remaining, b.full]), [
    ['individual', 150, 600, 25, 450, false],
    ['mass', 260, 250, 100, 0, true],
  ]);
  const free = usageBars({ email: { individual: { used: 0, limit: 100 }, mass: { used: 0, limit: 0 } } });
  assert.equal(free[1].pct, 0);
  assert.equal(free[1].full, false);
  assert.equal(usageBars({}).length, 2);
});

test('auto-recharge body: whole numbers as numbers, other text passed on for the API to name', () => {
  assert.deepEqual(autoRechargeBody({ enabled: true, threshold: ' 100 ', amount: '500', max_per_day: '' }), {
    enabled: true, threshold: 100, amount: 500,
  });
  assert.deepEqual(autoRechargeBody({ enabled: false, threshold: '-5', amount: 'abc', max_per_day: '3' }), {
    enabled: false, threshold: '-5', amount: 'abc', max_per_day: 3,
  });
  assert.equal(errorField("'threshold' must be an integer from 0 to 10000000"), 'threshold');
  assert.equal(errorField('body must be {"enabled": bool}'), null);
  assert.equal(errorField(undefined), null);
});

test('API errors become sentences in the admin language', () => {
  assert.equal(errorMessage({ status: 409, code: 'invalid_transition' }, 'ja'), 'このテンプレートの状態ではその操作はできません。');
  assert.equal(errorMessage({ status: 403, code: 'forbidden' }, 'en'), 'You are not allowed to do this (admins only).');
  assert.equal(errorMessage({ status: 0, code: 'network' }, 'en'), 'Cannot reach the server. Please try again.');
  assert.equal(errorMessage({ status: 500, code: 'internal' }, 'ja'), 'エラーが発生しました（internal）。');
});

test('template chips and lifecycle buttons', () => {
  assert.deepEqual(templateChips({ status: 'draft', version: 1 }), [{ kind: 'draft', key: 'admin.templates.status.draft' }]);
  // An approved template with a pending new version: the serving version and the pending one.
  const chips = templateChips({ status: 'pending', version: 3, approved_version: 2 });
  assert.deepEqual(chips.map((c) => [c.kind, c.key, c.vars]), [
    ['approved', 'admin.templates.serving', { version: 2 }],
    ['pending', 'admin.templates.status.newVersion', { version: 3 }],
  ]);
  assert.equal(tr('ja', chips[1].key, chips[1].vars), '新しい版が承認待ち（v3）');
  assert.equal(templateChips({ status: 'approved', version: 2, approved_version: 2 }).length, 1);
  assert.deepEqual(templateActions({ channel: 'sms', status: 'draft' }), ['submit']);
  assert.deepEqual(templateActions({ channel: 'sms', status: 'pending' }), ['approve', 'reject']);
  assert.deepEqual(templateActions({ channel: 'email', status: 'approved' }), []);
});

const REPORT = {
  rows: [
    { period: '2026-11-29', sent: 4, bounced: 1, opened: 2, clicked: 1, received: 0, replied: 0, bounced_rate: 25, opened_rate: 50, clicked_rate: 25, replied_rate: 0 },
    { period: '2026-11-30', sent: 0, bounced: 0, opened: 0, clicked: 0, received: 3, replied: 1, bounced_rate: 0, opened_rate: 0, clicked_rate: 0, replied_rate: 0 },
  ],
};

test('report: query string, chart series by index with period labels, table cells with rates', () => {
  assert.equal(reportQuery({ from: '2026-11-01', to: '2026-11-30', group: 'week' }), '?from=2026-11-01&to=2026-11-30&group=week');
  assert.equal(reportQuery({ group: 'year' }), '?group=day');
  const s = reportSeries(REPORT);
  assert.deepEqual(s.labels, ['2026-11-29', '2026-11-30']);
  assert.deepEqual(s.data[0], [0, 1]);
  assert.deepEqual(s.data[1], [4, 0]); // sent
  assert.deepEqual(s.data[5], [0, 3]); // received
  assert.equal(s.data.length, 1 + s.fields.length);
  assert.deepEqual(reportSeries({}).data, [[], [], [], [], [], [], []]);
  assert.deepEqual(reportCells({ ...REPORT.rows[0], sent: 1234 }, 'en'), ['1,234', '1 (25%)', '2 (50%)', '1 (25%)', '0', '0 (0%)']);
});

const CALLS = [
  { sid: 'CA1', direction: 'inbound', status: 'no-answer', started_at: '2026-11-30T16:00:00Z', user: 'u1' }, // 12-01 JST
  { sid: 'CA2', direction: 'outbound', status: 'completed', started_at: '2026-11-29T03:00:00Z', user: 'u2' },
  { sid: 'CA3', direction: 'inbound', status: 'completed', started_at: '2026-11-20T03:00:00Z' },
];

test('call log: query with only set filters, client-side filter in the org zone, file name', () => {
  assert.equal(callsQuery({}), '?format=json');
  assert.equal(
    callsQuery({ from: '2026-11-01', to: '', direction: 'inbound', user: ' u1 ', status: 'no-answer' }, 'csv'),
    '?format=csv&from=2026-11-01&direction=inbound&user=u1&status=no-answer',
  );
  const ids = (rows) => rows.map((c) => c.sid);
  assert.deepEqual(ids(filterCalls(CALLS, {}, 'Asia/Tokyo')), ['CA1', 'CA2', 'CA3']);
  assert.deepEqual(ids(filterCalls(CALLS, { from: '2026-12-01' }, 'Asia/Tokyo')), ['CA1']);
  assert.deepEqual(ids(filterCalls(CALLS, { from: '2026-12-01' }, 'UTC')), []);
  assert.deepEqual(ids(filterCalls(CALLS, { to: '2026-11-29' }, 'Asia/Tokyo')), ['CA2', 'CA3']);
  assert.deepEqual(ids(filterCalls(CALLS, { direction: 'inbound', status: 'completed' })), ['CA3']);
  assert.deepEqual(ids(filterCalls(CALLS, { user: 'u2' })), ['CA2']);
  assert.equal(callsQuery({ user: 'u1' }, 'json', '1764000000000.CA1'), '?format=json&user=u1&cursor=1764000000000.CA1');
  assert.equal(callsQuery({}, 'csv', '1764000000000.CA1'), '?format=csv'); // the CSV is every matching call
  assert.equal(callsFilename('acme', '2026-11-01', '2026-11-30'), 'calls-acme_2026-11-01_2026-11-30.csv');
  assert.equal(callsFilename('acme', '', ''), 'calls-acme_all_all.csv');
  assert.equal(callsFilename('acme', '2026-11-01', ''), 'calls-acme_2026-11-01_all.csv');
  assert.equal(callsFilename('a/../b', '"x', ''), 'calls-ab_x_all.csv');
  assert.equal(dispositionFilename('attachment; filename="calls-acme_all_all.csv"'), 'calls-acme_all_all.csv');
  assert.equal(dispositionFilename('attachment; filename="../../etc/x.csv"'), '....etcx.csv');
  assert.equal(dispositionFilename(null), null);
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(null), '');
});

test('mailbox state tones', () => {
  assert.equal(mailboxTone('idle'), 'ok');
  assert.equal(mailboxTone('auth_failed'), 'bad');
  assert.equal(mailboxTone('tls_failed'), 'bad');
  assert.equal(mailboxTone('backoff'), 'wait');
  assert.equal(mailboxTone('connecting'), 'wait');
});

test('a mailbox edit sends only what changed, a password only when typed', () => {
  const box = { id: 'mbx-1', user: 'u1', host: 'imap.example.jp', port: 993, tls: 'implicit', username: 'sato@example.jp',
    folder: 'INBOX', mode: 'inbox' };
  const form = { ...box, port: '993', password: '' };
  assert.deepEqual(mailboxChanges(box, form, 'all'), {});
  assert.deepEqual(mailboxChanges(box, { ...form, password: 'new' }, 'all'), { password: 'new' });
  assert.deepEqual(mailboxChanges(box, { ...form, folder: ' Archive ', port: ' 1993' }, 'all'), { folder: 'Archive', port: 1993 });
  assert.deepEqual(mailboxChanges(box, { ...form, tls: 'starttls', port: '' }, 'all'), { tls: 'starttls', port: 143 });
  assert.deepEqual(mailboxChanges(box, { ...form, port: '99x' }, 'all'), { port: '99x' });
  // "Change password": the password alone, even empty (the API answers which field is wrong).
  assert.deepEqual(mailboxChanges(box, { ...form, host: 'other.example.jp' }, 'password'), { password: '' });
  assert.equal(mailboxPort({ port: '', tls: 'implicit' }), 993);
});
