// Pure logic of the messaging admin views (web/admin/messaging_logic.js) and their strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MESSAGING_STRINGS } from '../admin/messaging_strings.js';
import { ADMIN_STRINGS } from '../admin/strings.js';
import { errorMessage, tr } from '../admin/logic.js';
import { dltVersions, versionChips } from '../admin/template_versions.js';
import {
  dataFromRows, emptyDataRow, fanoutProgress, fanoutResultsQuery, fanoutText, importPayload, importSummary, isoToLocal, localToIso, matchToRows,
  minutesToSeconds, remindersQuery, ruleBody, ruleForm, rowsToMatch, secondsToMinutes, senderRows, triggerSummary,
} from '../admin/messaging_logic.js';

test('messaging strings exist in both languages and are merged into the admin strings', () => {
  assert.deepEqual(Object.keys(MESSAGING_STRINGS.ja).sort(), Object.keys(MESSAGING_STRINGS.en).sort());
  for (const lang of ['ja', 'en']) {
    for (const [k, v] of Object.entries(MESSAGING_STRINGS[lang])) assert.equal(ADMIN_STRINGS[lang][k], v, k);
  }
});

test('the new API error codes read as sentences in the admin language', () => {
  for (const code of ['template_not_approved', 'module_fixed', 'no_phone_in_field', 'unknown_contact',
    'segment_too_large', 'not_dlt_compatible', 'too_many_rules', 'not_cancellable', 'suppression_not_found']) {
    const ja = errorMessage({ status: 409, code }, 'ja');
    const en = errorMessage({ status: 409, code }, 'en');
    assert.equal(ja, MESSAGING_STRINGS.ja[`admin.error.${code}`]);
    assert.equal(en, MESSAGING_STRINGS.en[`admin.error.${code}`]);
  }
  // {#var#} in a string is literal text, not a variable tr() fills.
  assert.match(tr('en', 'admin.templates.dltHint'), /\{#var#\}/);
});

test('match rows become the API match object and back', () => {
  const rows = [
    { kind: 'kind', value: 'lead' },
    { kind: 'marketing', value: 'true' },
    { kind: 'company', value: ' アクメ ' },
    { kind: 'field', name: 'region', type: 'text', value: '関西' },
    { kind: 'field', name: 'size', type: 'number', value: '40' },
    { kind: 'field', name: 'vip', type: 'bool', value: 'false' },
  ];
  const { match, errors } = rowsToMatch(rows);
  assert.deepEqual(errors, []);
  assert.deepEqual(match, {
    kind: 'lead', marketing: true, company: 'アクメ', 'fields.region': '関西', 'fields.size': 40, 'fields.vip': false,
  });
  // JSON equality matters to the API ("40" is not 40): the type survives the round trip.
  const back = matchToRows(match);
  assert.deepEqual(back.find((r) => r.name === 'size'), { kind: 'field', name: 'size', value: '40', type: 'number' });
  assert.deepEqual(rowsToMatch(back).match, match);
  assert.deepEqual(rowsToMatch([]).match, {});
});

test('bad match rows are named by row and problem', () => {
  const { match, errors } = rowsToMatch([
    { kind: 'field', name: '', value: 'x', type: 'text' },
    { kind: 'field', name: 'a b', value: 'x', type: 'text' },
    { kind: 'field', name: 'n', value: 'forty', type: 'number' },
    { kind: 'owner', value: 'u1' },
    { kind: 'owner', value: 'u2' },
  ]);
  assert.deepEqual(errors, [
    { row: 0, problem: 'name' }, { row: 1, problem: 'name' }, { row: 2, problem: 'number' }, { row: 4, problem: 'duplicate' },
  ]);
  assert.deepEqual(match, { owner: 'u1' });
});

test('an import is sent as JSON or CSV by its look or file name', () => {
  assert.deepEqual(importPayload('[{"id":"c1"}]'), { type: 'json', body: { contacts: [{ id: 'c1' }] } });
  assert.deepEqual(importPayload('{"contacts":[]}'), { type: 'json', body: { contacts: [] } });
  assert.deepEqual(importPayload('{oops'), { type: 'invalid' });
  const csv = '\uFEFFid,name\nc1,山田\n';
  assert.deepEqual(importPayload(csv), { type: 'csv', text: csv }); // the BOM is kept: the API reads it
  assert.equal(importPayload('[x]', 'a.csv').type, 'csv');
});

test('import results: counts and errors first, each with its reason', () => {
  const s = importSummary({
    results: [
      { row: 1, id: 'c1', status: 'created' },
      { row: 2, id: 'c2', status: 'updated' },
      { row: 3, id: 'c3', status: 'error', reason: 'invalid_phone', detail: "'phone' ..." },
      { row: 4, id: 'c4', status: 'created' },
    ],
    created: 2, updated: 1, errors: 1,
  });
  assert.deepEqual([s.created, s.updated, s.errors], [2, 1, 1]);
  assert.deepEqual(s.rows.map((r) => [r.row, r.status]), [[3, 'error'], [1, 'created'], [2, 'updated'], [4, 'created']]);
  assert.equal(s.rows[0].reason, 'invalid_phone');
  // Counts derived from the rows when the answer has none.
  assert.deepEqual(importSummary({ results: [{ row: 1, status: 'error', reason: 'x' }] }).errors, 1);
  assert.deepEqual(importSummary(null), { created: 0, updated: 0, errors: 0, rows: [] });
});

test('unread_for: minutes in the form, seconds in the API', () => {
  assert.equal(minutesToSeconds(''), null);
  assert.equal(minutesToSeconds(' 10 '), 600);
  assert.equal(minutesToSeconds('0.5'), 30);
  assert.ok(Number.isNaN(minutesToSeconds('0')));
  assert.ok(Number.isNaN(minutesToSeconds('-3')));
  assert.ok(Number.isNaN(minutesToSeconds('ten')));
  assert.equal(secondsToMinutes(600), '10');
  assert.equal(secondsToMinutes(90), '1.5');
  assert.equal(secondsToMinutes(undefined), '');
  assert.equal(secondsToMinutes(null), '');
});

test('a rule form round-trips through the API body', () => {
  const rule = {
    id: 'r1', name: '不在着信', on: 'call.missed', unread_for: 600, enabled: true,
    action: { channel: 'sms', template: 't1', to: { user: 'u2' } },
  };
  const form = ruleForm(rule);
  assert.deepEqual(form, {
    id: 'r1', name: '不在着信', on: 'call.missed', unread_for: '10', channel: 'sms', template: 't1', to: 'user', user: 'u2', enabled: true,
  });
  assert.deepEqual(ruleBody(form), {
    on: 'call.missed', action: { channel: 'sms', template: 't1', to: { user: 'u2' } }, enabled: true, name: '不在着信', unread_for: 600,
  });
  const plain = ruleBody({ ...ruleForm(null), template: 't9', unread_for: '' });
  assert.deepEqual(plain, { on: 'call.missed', action: { channel: 'sms', template: 't9', to: 'contact' }, enabled: true });
});

test('reschedule: local time in the org zone → ISO with that zone offset', () => {
  assert.equal(localToIso('2026-11-30T09:00', 'Asia/Tokyo'), '2026-11-30T09:00:00+09:00');
  assert.equal(localToIso('2026-11-30T09:00', 'Asia/Kolkata'), '2026-11-30T09:00:00+05:30');
  assert.equal(localToIso('2026-07-01T09:15', 'America/New_York'), '2026-07-01T09:15:00-04:00');
  assert.equal(localToIso('2026-12-01T09:15', 'America/New_York'), '2026-12-01T09:15:00-05:00');
  // Spring forward (2026-03-08 02:00 → 03:00 in New York): 02:30 does not exist → 03:30 EDT.
  assert.equal(localToIso('2026-03-08T02:30', 'America/New_York'), '2026-03-08T03:30:00-04:00');
  assert.equal(localToIso('2026-03-08T01:59', 'America/New_York'), '2026-03-08T01:59:00-05:00');
  assert.equal(localToIso('2026-03-08T03:00', 'America/New_York'), '2026-03-08T03:00:00-04:00');
  // Fall back (2026-11-01 02:00 → 01:00): 01:30 happens twice → the earlier one (EDT).
  assert.equal(localToIso('2026-11-01T01:30', 'America/New_York'), '2026-11-01T01:30:00-04:00');
  assert.equal(localToIso('2026-11-01T02:30', 'America/New_York'), '2026-11-01T02:30:00-05:00');
  // Lord Howe: a half-hour DST shift.
  assert.equal(localToIso('2026-01-15T12:00', 'Australia/Lord_Howe'), '2026-01-15T12:00:00+11:00');
  assert.equal(localToIso('2026-06-15T12:00', 'Australia/Lord_Howe'), '2026-06-15T12:00:00+10:30');
  assert.equal(localToIso('', 'Asia/Tokyo'), null);
  assert.equal(localToIso('2026-02-30T09:00', 'Asia/Tokyo'), null);
  // The ISO parses back to the same instant, and back to the same wall time.
  const iso = localToIso('2026-11-30T09:00', 'Asia/Tokyo');
  assert.equal(Date.parse(iso), Date.UTC(2026, 10, 30, 0, 0));
  assert.equal(isoToLocal(iso, 'Asia/Tokyo'), '2026-11-30T09:00');
  assert.equal(isoToLocal('2026-11-30T00:00:00Z', 'America/New_York'), '2026-11-29T19:00');
  assert.equal(isoToLocal('nope', 'UTC'), '');
});

test('reminders query keeps only the filters that are set', () => {
  assert.equal(remindersQuery({ user: '', status: '' }), '?limit=50');
  assert.equal(remindersQuery({ user: 'u1', status: 'scheduled' }, 'r9', 20), '?user=u1&status=scheduled&cursor=r9&limit=20');
});

test('fan-out progress: running until walked and every member has an outcome', () => {
  assert.deepEqual(fanoutProgress({ status: 'queued', total: 0, enqueued: 0, done: 0 }),
    { pct: 0, done: 0, of: 0, skipped: 0, finished: false, walked: false });
  const running = fanoutProgress({ status: 'running', total: 400, enqueued: 200, done: 100 });
  assert.equal(running.pct, 25);
  assert.equal(running.finished, false);
  // Walked, but the mails are still going out: not done, never shown as 100%.
  const walking = fanoutProgress({ status: 'done', total: 3, enqueued: 3, done: 3 - 1 });
  assert.deepEqual([walking.pct, walking.finished], [66, false]);
  assert.equal(fanoutProgress({ status: 'running', total: 3, enqueued: 3, done: 3 }).pct, 99);
  assert.deepEqual(fanoutProgress({ status: 'done', total: 3, enqueued: 3, done: 3 }),
    { pct: 100, done: 3, of: 3, skipped: 0, finished: true, walked: true });
  assert.equal(fanoutProgress({ status: 'done', total: 0, enqueued: 0, done: 0 }).finished, true);
});

test('fan-out progress counts the members that get a message, not the skipped ones', () => {
  // 1,500 members, 1,488 without a mobile: the bar follows the 12 that get one.
  const walked = fanoutProgress({ status: 'done', total: 1500, enqueued: 12, skipped: 1488, done: 6 });
  assert.deepEqual([walked.pct, walked.of, walked.skipped, walked.finished], [50, 12, 1488, false]);
  // Still walking: the members found so far less the skipped ones.
  const walking = fanoutProgress({ status: 'running', total: 1000, enqueued: 10, skipped: 990, done: 5 });
  assert.deepEqual([walking.pct, walking.of], [50, 10]);
  // Everyone skipped: nothing to send, finished at 100% once walked.
  assert.deepEqual(fanoutProgress({ status: 'done', total: 2, enqueued: 0, skipped: 2, done: 0 }),
    { pct: 100, done: 0, of: 0, skipped: 2, finished: true, walked: true });
  assert.equal(fanoutProgress({ status: 'running', total: 2, enqueued: 0, skipped: 2, done: 0 }).pct, 0);
  assert.equal(fanoutProgress({ status: 'done', total: 1500, enqueued: 12, skipped: 1488, done: 12 }).pct, 100);
});

test('fan-out progress line in ja and en, with the skipped members and why', () => {
  const f = { status: 'done', total: 1500, enqueued: 12, skipped: 1488, done: 12 };
  assert.equal(fanoutText(f, 'en', tr('en', 'admin.smsn.noPhone.mobile')), 'Done: 12 of 12 sent · 1,488 skipped (no mobile)');
  assert.equal(fanoutText(f, 'ja', tr('ja', 'admin.smsn.noPhone.mobile')), '完了しました: 12 / 12 件・1,488 件は送信対象外（携帯番号なし）');
  assert.equal(fanoutText(f, 'en'), 'Done: 12 of 12 sent · 1,488 skipped');
  const running = { status: 'running', total: 1500, enqueued: 12, skipped: 1488, done: 6 };
  assert.equal(fanoutText(running, 'en', 'no mobile'), 'Sending… 6 of 12 sent (50%) · 1,488 skipped (no mobile)');
  assert.equal(fanoutText({ status: 'done', total: 3, enqueued: 3, done: 3 }, 'ja'), '完了しました: 3 / 3 件');
  for (const field of ['mobile', 'work', 'home', 'other', 'any']) {
    for (const lang of ['ja', 'en']) assert.notEqual(tr(lang, `admin.smsn.noPhone.${field}`), `admin.smsn.noPhone.${field}`);
  }
  assert.equal(fanoutResultsQuery(null, 25), '?limit=25');
  assert.equal(fanoutResultsQuery('c:1/2', 10), '?cursor=c%3A1%2F2&limit=10');
});

test('trigger results and merge data', () => {
  assert.deepEqual(dataFromRows([{ name: ' day ', value: '月曜' }, { name: '', value: 'x' }]), { day: '月曜' });
  assert.deepEqual(dataFromRows([emptyDataRow(), { name: 'event', value: '新製品発表会' }]), { event: '新製品発表会' });
  const s = triggerSummary({ results: [{ contact: 'c1', notification: 'n1' }, { contact: 'c2', error: 'no_phone_in_field' }] });
  assert.deepEqual([s.sent, s.failed], [1, 1]);
  assert.deepEqual(s.rows[1], { contact: 'c2', name: '', notification: '', error: 'no_phone_in_field' });
  const named = triggerSummary({ results: [{ contact: 'c1', name: '佐藤', notification: 'n1' }, { contact: 'c2', name: null, error: 'unknown_contact' }] });
  assert.deepEqual(named.rows.map((r) => r.name), ['佐藤', '']);
});

test('template chips: the live version serving beside a pending or draft new version', () => {
  const pending = versionChips({ status: 'approved', version: 1, pending: { version: 2, status: 'pending', body: 'b' } });
  assert.deepEqual(pending.map((c) => [c.kind, c.key, c.vars]), [
    ['approved', 'admin.templates.serving', { version: 1 }],
    ['pending', 'admin.templates.status.newVersion', { version: 2 }],
  ]);
  assert.equal(tr('ja', pending[1].key, pending[1].vars), '新しい版が承認待ち（v2）');
  const draft = versionChips({ status: 'approved', version: 3, draft: { version: 4, status: 'rejected' } });
  assert.deepEqual(draft.map((c) => c.kind), ['approved', 'rejected']);
  assert.equal(tr('ja', draft[1].key, draft[1].vars), '新しい版が却下（v4）');
  assert.deepEqual(versionChips({ status: 'draft', version: 1 }).map((c) => c.kind), ['draft']);
});

test('the DLT copy offers the new version being registered first, then the live one', () => {
  const tpl = { status: 'approved', version: 1, pending: { version: 2, status: 'pending', body: 'b' } };
  assert.deepEqual(dltVersions(tpl), [{ version: 2, status: 'pending' }, { version: 1, status: 'approved' }]);
  assert.deepEqual(dltVersions({ status: 'draft', version: 3 }), [{ version: 3, status: 'draft' }]);
});

test('sender registration rows mark what is missing', () => {
  const rows = senderRows({
    sender: { sender_id: 'ACMEIN', entity_id: '1234567890123456789', operator: 'jio' },
    profile: { legal_name: 'Acme India Pvt Ltd' },
    sender_registration: { missing: ['sender.entity_name', 'sender.sender_unique_id', 'profile.brand_name'] },
  });
  assert.equal(rows.length, 10);
  const missing = rows.filter((r) => r.missing).map((r) => `${r.group}.${r.field}`);
  assert.deepEqual(missing, ['sender.entity_name', 'sender.sender_unique_id', 'profile.brand_name', 'profile.city',
    'profile.state', 'profile.postal_code']);
  assert.equal(rows.find((r) => r.field === 'sender_id').value, 'ACMEIN');
});
