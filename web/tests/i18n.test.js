// i18n.js: ja/en dictionaries, language choice and relative times.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  DICT,
  LANGS,
  TYPE_LABELS,
  absoluteTime,
  detectLang,
  getLang,
  localeFor,
  relativeTime,
  setLang,
  t,
  translate,
  typeLabel,
} from '../i18n.js';
import { TYPE_NAMES } from '../types.js';
import { TWILIO_STATUSES } from '../present.js';

const source = (name) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

test('every UI key exists in every language, with a non-empty string', () => {
  assert.deepEqual(Object.keys(DICT).sort(), [...LANGS].sort());
  const all = new Set(LANGS.flatMap((lang) => Object.keys(DICT[lang])));
  for (const lang of LANGS) {
    const missing = [...all].filter((k) => !(k in DICT[lang]));
    assert.deepEqual(missing, [], `keys missing in ${lang}`);
    for (const [key, s] of Object.entries(DICT[lang])) assert.ok(typeof s === 'string' && s.trim(), `${lang} ${key}`);
  }
});

test('placeholders are the same in both languages', () => {
  const params = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(DICT.en)) assert.deepEqual(params(DICT.ja[key]), params(DICT.en[key]), key);
});

test('every key the page uses is in the dictionary', () => {
  const used = new Set();
  const files = ['app.js', 'controller.js', 'shell.js', 'feed.js', 'dialogs.js', 'present.js', 'notify.js'];
  for (const file of files) {
    for (const m of source(file).matchAll(/\bt\('([^']+)'/g)) used.add(m[1]);
    for (const m of source(file).matchAll(/translate\(lang, '([^']+)'/g)) used.add(m[1]);
  }
  for (const m of source('feed.js').matchAll(/'(list\.[a-zA-Z]+)'/g)) used.add(m[1]); // emptyKey
  // Built from a value: status.${state} (SignalSocket states shown to the user), role.${me.role},
  // bounce.${bounce}, kind.${kind} (unknown kinds show raw, so only the known ones), view.${v},
  // snooze.${preset}, twilio.${status}, action.${code} (known error codes).
  for (const s of ['connecting', 'live', 'reconnecting', 'signed-out']) used.add(`status.${s}`);
  for (const r of ['admin', 'member']) used.add(`role.${r}`);
  for (const b of ['hard', 'soft']) used.add(`bounce.${b}`);
  for (const k of ['lead', 'contact', 'customer']) used.add(`kind.${k}`);
  for (const v of ['inbox', 'archived', 'snoozed']) used.add(`view.${v}`);
  for (const p of ['later', 'inHour', 'tomorrow', 'nextWeek']) used.add(`snooze.${p}`);
  for (const s of TWILIO_STATUSES) used.add(`twilio.${s}`);
  for (const c of ['no_phone', 'no_contact', 'template_not_approved', 'insufficient_credits', 'outbound_not_allowed', 'no_caller_id', 'no_user_phone']) used.add(`action.${c}`);
  assert.ok(used.size > 60, `found only ${used.size} keys: the scan is broken`);
  const missing = [...used].filter((k) => !(k in DICT.en));
  assert.deepEqual(missing, []);
});

test('typeLabel: every catalogue type has its own label in both languages', () => {
  for (const lang of LANGS) {
    assert.deepEqual(Object.keys(TYPE_LABELS[lang]).sort(), [...TYPE_NAMES].sort(), `${lang} labels = catalogue`);
  }
  for (const type of TYPE_NAMES) {
    const ja = typeLabel(type, 'ja');
    const en = typeLabel(type, 'en');
    for (const label of [ja, en]) {
      assert.ok(label.trim(), `${type}: empty label`);
      assert.notEqual(label, type, `${type}: raw type shown`);
    }
    assert.notEqual(ja, en, `${type}: ja falls back to English`);
    assert.match(ja, /[\u3040-\u30ff\u4e00-\u9fff]/, `${type}: ja label has no Japanese`);
  }
});

test('typeLabel: unknown types show the raw type; unknown languages use English', () => {
  assert.equal(typeLabel('custom.thing', 'ja'), 'custom.thing');
  assert.equal(typeLabel(undefined, 'en'), '');
  assert.equal(typeLabel(null, 'en'), '');
  assert.equal(typeLabel('sms.failed', 'fr'), 'SMS failed');
});

test('detectLang: stored choice, else the first browser language', () => {
  const cases = [
    // stored, navigator.languages, want
    ['ja', ['en-US'], 'ja'],
    ['en', ['ja-JP'], 'en'],
    ['fr', ['ja-JP'], 'ja'], // an unknown stored value is ignored
    [null, ['ja-JP', 'en'], 'ja'],
    [null, ['en-US', 'ja'], 'en'], // only the first language counts
    [null, ['JA'], 'ja'],
    [null, 'ja', 'ja'], // navigator.language, a string
    [null, ['', 'ja-JP'], 'ja'], // empty entries skipped
    [null, ['de-DE', 'ja'], 'en'],
    [null, [], 'en'],
    [undefined, undefined, 'en'],
    [null, [null], 'en'],
  ];
  for (const [stored, langs, want] of cases) {
    assert.equal(detectLang(stored, langs), want, `detectLang(${stored}, ${JSON.stringify(langs)})`);
  }
});

test('translate: parameters, fallbacks to English and to the key', () => {
  assert.equal(translate('en', 'bell.label', { n: 3 }), '3 unread');
  assert.equal(translate('ja', 'bell.label', { n: 3 }), '未読 3 件');
  assert.equal(translate('en', 'user.org', {}), 'Organization: {org}', 'a missing parameter stays visible');
  assert.equal(translate('en', 'time.minutes', { n: 0 }), '0 min ago');
  assert.equal(translate('fr', 'signout'), 'Sign out');
  assert.equal(translate('ja', 'no.such.key'), 'no.such.key');
});

test('setLang: known languages only; t() follows it; English locale from the browser', () => {
  assert.equal(setLang('fr'), 'en');
  assert.equal(getLang(), 'en');
  assert.equal(setLang('ja', 'ja-JP'), 'ja');
  assert.equal(t('signout'), 'サインアウト');
  assert.equal(localeFor(), 'ja-JP');
  setLang('en', 'en-GB');
  assert.equal(t('signout'), 'Sign out');
  assert.equal(localeFor('en'), 'en-GB');
  setLang('en', 'de-DE'); // not English: keeps the last English locale
  assert.equal(localeFor('en'), 'en-GB');
  setLang('en', 'en-US');
  assert.equal(localeFor('en'), 'en-US');
});

test('relativeTime: unit boundaries with an injected now', () => {
  setLang('en', 'en-US');
  const now = new Date(2026, 10, 25, 12, 0, 0).getTime(); // local time: no time-zone dependence
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases = [
    // age, en, ja
    [0, 'just now', 'たった今'],
    [59 * s, 'just now', 'たった今'],
    [60 * s, '1 min ago', '1分前'],
    [59 * m + 59 * s, '59 min ago', '59分前'],
    [h, '1 hr ago', '1時間前'],
    [23 * h + 59 * m, '23 hr ago', '23時間前'],
    [d, '1 day ago', '1日前'],
    [2 * d, '2 days ago', '2日前'],
    [7 * d - 1, '6 days ago', '6日前'],
    [7 * d, 'Nov 18', '11月18日'], // a week: a short date
    [-5 * m, 'just now', 'たった今'], // clock skew: the future is "now"
  ];
  for (const [age, en, ja] of cases) {
    assert.equal(relativeTime(now - age, now, 'en'), en, `en, ${age} ms`);
    assert.equal(relativeTime(now - age, now, 'ja'), ja, `ja, ${age} ms`);
  }
});

test('relativeTime: dates from another year carry the year; any input form; invalid is empty', () => {
  setLang('en', 'en-US');
  const now = new Date(2027, 0, 5, 12, 0).getTime();
  const when = new Date(2026, 10, 18, 12, 0);
  assert.equal(relativeTime(when, now, 'en'), 'Nov 18, 2026');
  assert.equal(relativeTime(when, now, 'ja'), '2026年11月18日');
  assert.equal(relativeTime(when.toISOString(), when.getTime() + 90_000, 'en'), '1 min ago');
  assert.equal(relativeTime(when, when.getTime() + 3 * 3600_000, 'en'), '3 hr ago');
  for (const bad of [null, undefined, '', 'not a date', NaN]) {
    assert.equal(relativeTime(bad, now, 'en'), '', String(bad));
  }
});

test('absoluteTime: medium date and short time, empty for invalid input', () => {
  const when = new Date(2026, 10, 25, 23, 0);
  assert.match(absoluteTime(when, 'ja'), /^2026\/11\/25 23:00$/);
  assert.match(absoluteTime(when, 'en'), /Nov 25, 2026/);
  assert.equal(absoluteTime('garbage', 'en'), '');
});
