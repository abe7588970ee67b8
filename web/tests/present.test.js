// present.js: titles that read well in the user's language, never the same text twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { notificationText, presentSignal, statusLabel, TWILIO_STATUSES } from '../present.js';
import { DICT } from '../i18n.js';

const yamada = { id: 'c-yamada', name: '山田 太郎', kind: 'lead', company: '山田商事' };

test('a missed call localises the Twilio status and uses the formatted number', () => {
  const s = {
    type: 'call.missed', contact: null, title: '+81312345678', body: '+81312345678 → +815012345678 (no-answer)',
    data: { from: '+81312345678', from_display: '03-1234-5678', status: 'no-answer' },
  };
  const ja = presentSignal(s, 'ja');
  assert.equal(ja.name, '03-1234-5678');
  assert.equal(ja.title, '応答なし');
  assert.equal(ja.body, '');
  assert.equal(ja.type, '不在着信');
  assert.equal(presentSignal(s, 'en').title, 'No answer');
  // A known caller: the contact's name and company, the number beside the status.
  const known = presentSignal({ ...s, contact: yamada }, 'ja');
  assert.deepEqual([known.name, known.company, known.title], ['山田 太郎', '山田商事', '応答なし · 03-1234-5678']);
  // No display form: the raw number.
  assert.equal(presentSignal({ ...s, data: { from: '+81312345678', status: 'busy' } }, 'en').name, '+81312345678');
});

test('an SMS shows its message once, not as title and body', () => {
  const text = 'お世話になっております。明日の打ち合わせの件でご連絡しました。資料は後ほどお送りします。';
  const s = { type: 'sms.received', contact: yamada, title: text.slice(0, 40) + '…', body: text, data: { text } };
  const p = presentSignal(s, 'ja');
  assert.equal(p.title, text);
  assert.equal(p.body, '');
  // A webhook signal whose body repeats its title also shows once.
  const w = presentSignal({ type: 'desk.ticket', contact: yamada, title: 'Printer broken', body: 'Printer broken' }, 'en');
  assert.deepEqual([w.title, w.body], ['Printer broken', '']);
  const d = presentSignal({ type: 'desk.ticket', contact: yamada, title: 'Printer', body: 'The office printer jams' }, 'en');
  assert.deepEqual([d.title, d.body], ['Printer', 'The office printer jams']);
});

test('sms.failed: status and error code in the language; unknown recipient shown by number', () => {
  const s = { type: 'sms.failed', contact: null, title: '+8190', body: 'undelivered (error 30003)',
    data: { to: '+819011112222', to_display: '090-1111-2222', status: 'undelivered', error_code: '30003' } };
  const ja = presentSignal(s, 'ja');
  assert.deepEqual([ja.name, ja.title], ['090-1111-2222', '未配信 (エラー 30003)']);
  assert.equal(presentSignal(s, 'en').title, 'Undelivered (error 30003)');
});

test('every Twilio status has words in both languages; unknown ones show raw; unknown contact is named', () => {
  for (const st of TWILIO_STATUSES) {
    assert.ok(DICT.ja[`twilio.${st}`] && DICT.en[`twilio.${st}`], st);
    assert.notEqual(statusLabel(st, 'ja'), statusLabel(st, 'en'), st);
  }
  assert.equal(statusLabel('weird', 'ja'), 'weird');
  assert.equal(presentSignal({ type: 'desk.ticket', contact: null, title: 'x' }, 'ja').name, '不明な連絡先');
});

test('notificationText names the type, contact and company', () => {
  const n = notificationText({ type: 'survey.answered', contact: yamada, title: '満足度', body: '5' }, 'ja');
  assert.equal(n.title, 'アンケート回答: 山田 太郎 (山田商事)');
  assert.equal(n.body, '満足度\n5');
});
