// zone.js: wall-clock arithmetic and snooze presets in the org's time zone (not the browser's).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { formatInZone, safeZone, snoozePresets, wallClock, zonedTime } from '../zone.js';

const at = (iso) => Date.parse(iso);
const presets = (iso, tz) => Object.fromEntries(snoozePresets(at(iso), tz).map((p) => [p.key, p.until]));

test('zonedTime: wall clock in a zone to the instant, across offsets and overflowing days', () => {
  assert.equal(new Date(zonedTime(2026, 12, 1, 9, 0, 'Asia/Tokyo')).toISOString(), '2026-12-01T00:00:00.000Z');
  assert.equal(new Date(zonedTime(2026, 11, 31, 9, 0, 'Asia/Tokyo')).toISOString(), '2026-12-01T00:00:00.000Z');
  assert.equal(new Date(zonedTime(2026, 7, 1, 9, 0, 'America/New_York')).toISOString(), '2026-07-01T13:00:00.000Z');
  assert.equal(new Date(zonedTime(2026, 1, 1, 9, 0, 'America/New_York')).toISOString(), '2026-01-01T14:00:00.000Z');
  assert.equal(new Date(zonedTime(2026, 1, 1, 9, 0, 'Asia/Kolkata')).toISOString(), '2026-01-01T03:30:00.000Z');
  // DST gap (02:30 does not exist on 2026-03-08 in New York): moves forward, stays in that day.
  const gap = wallClock(zonedTime(2026, 3, 8, 2, 30, 'America/New_York'), 'America/New_York');
  assert.deepEqual([gap.d, gap.h], [8, 3]);
});

test('wallClock gives the zone weekday; safeZone falls back to UTC for unknown zones', () => {
  const w = wallClock(at('2026-11-30T23:30:00Z'), 'Asia/Tokyo'); // Tue 08:30 in Tokyo, Mon in UTC
  assert.deepEqual([w.y, w.m, w.d, w.h, w.mi, w.wd], [2026, 12, 1, 8, 30, 2]);
  assert.equal(safeZone('Not/AZone'), 'UTC');
  assert.equal(safeZone(undefined), 'UTC');
  assert.equal(safeZone('Asia/Tokyo'), 'Asia/Tokyo');
});

test('snooze presets: later today (+3 h, whole hour), tomorrow 09:00, next Monday 09:00 — in the org zone', () => {
  // Tue 2026-12-01 10:20 in Tokyo (01:20Z).
  assert.deepEqual(presets('2026-12-01T01:20:00Z', 'Asia/Tokyo'), {
    later: '2026-12-01T05:00:00.000Z', // 14:00 JST
    tomorrow: '2026-12-02T00:00:00.000Z', // Wed 09:00 JST
    nextWeek: '2026-12-07T00:00:00.000Z', // Mon 09:00 JST
  });
  // The same instant for a New York org is Mon 2026-11-30 20:20: no "later today" after 21:00,
  // "in 1 hour" instead.
  assert.deepEqual(presets('2026-12-01T01:20:00Z', 'America/New_York'), {
    inHour: '2026-12-01T02:20:00.000Z', // 21:20 EST
    tomorrow: '2026-12-01T14:00:00.000Z', // Tue 09:00 EST
    nextWeek: '2026-12-07T14:00:00.000Z', // a Monday gives the Monday after
  });
  // Exactly on the hour: +3 h is already whole; 18:00 + 3 h = 21:00 is still offered.
  assert.equal(presets('2026-12-01T09:00:00Z', 'Asia/Tokyo').later, '2026-12-01T12:00:00.000Z');
  assert.equal(presets('2026-12-01T09:00:01Z', 'Asia/Tokyo').later, undefined);
  // Sunday → next week is the next day.
  assert.equal(presets('2026-12-06T03:00:00Z', 'Asia/Tokyo').nextWeek, '2026-12-07T00:00:00.000Z');
});

test('snooze presets are always in the future and in menu order', () => {
  for (const iso of ['2026-03-08T06:59:00Z', '2026-12-31T14:59:59Z', '2026-06-15T00:00:00Z']) {
    for (const tz of ['Asia/Tokyo', 'America/New_York', 'UTC', 'Australia/Lord_Howe']) {
      const list = snoozePresets(at(iso), tz);
      const keys = list.map((p) => p.key);
      assert.deepEqual(keys.slice(1), ['tomorrow', 'nextWeek'], `${iso} ${tz}`);
      assert.ok(['later', 'inHour'].includes(keys[0]), `${iso} ${tz}: ${keys}`);
      for (const p of list) assert.ok(p.ms > at(iso), `${p.key} ${iso} ${tz}`);
      for (let i = 1; i < list.length; i++) assert.ok(list[i].ms >= list[i - 1].ms);
    }
  }
});

test('snooze presets after 21:00: "in 1 hour" replaces "later today", across midnight and DST nights', () => {
  const keys = (iso, tz) => snoozePresets(at(iso), tz).map((p) => p.key);
  const table = [
    // [now, zone, local time, expected presets]
    ['2026-12-01T08:59:00Z', 'Asia/Tokyo', '17:59', { later: '2026-12-01T12:00:00.000Z' }], // 21:00 JST
    ['2026-12-01T09:00:01Z', 'Asia/Tokyo', '18:00:01', { inHour: '2026-12-01T10:01:00.000Z' }], // up to the minute
    ['2026-12-01T12:05:00Z', 'Asia/Tokyo', '21:05', { inHour: '2026-12-01T13:05:00.000Z' }],
    // 23:30 in Tokyo: an hour later is tomorrow 00:30, still before tomorrow morning.
    ['2026-12-01T14:30:00Z', 'Asia/Tokyo', '23:30', { inHour: '2026-12-01T15:30:00.000Z', tomorrow: '2026-12-02T00:00:00.000Z' }],
    ['2026-12-01T17:00:00Z', 'Asia/Tokyo', '02:00', { later: '2026-12-01T20:00:00.000Z' }], // 05:00 JST
    ['2026-12-01T16:40:00Z', 'Asia/Kolkata', '22:10', { inHour: '2026-12-01T17:40:00.000Z' }],
    // New York, Sat 2026-10-31 23:30 EDT: summer time ends that night; tomorrow 09:00 is EST.
    ['2026-11-01T03:30:00Z', 'America/New_York', '23:30 EDT', {
      inHour: '2026-11-01T04:30:00.000Z', tomorrow: '2026-11-01T14:00:00.000Z', nextWeek: '2026-11-02T14:00:00.000Z',
    }],
    // New York, Sat 2026-03-07 23:30 EST: summer time starts that night; tomorrow 09:00 is EDT.
    ['2026-03-08T04:30:00Z', 'America/New_York', '23:30 EST', {
      inHour: '2026-03-08T05:30:00.000Z', tomorrow: '2026-03-08T13:00:00.000Z', nextWeek: '2026-03-09T13:00:00.000Z',
    }],
  ];
  for (const [iso, tz, local, expected] of table) {
    const got = presets(iso, tz);
    for (const [key, until] of Object.entries(expected)) assert.equal(got[key], until, `${local} ${tz}: ${key}`);
    assert.equal('later' in got, !('inHour' in got), `${local} ${tz}: exactly one of later / inHour`);
    assert.deepEqual(keys(iso, tz).slice(1), ['tomorrow', 'nextWeek'], `${local} ${tz}`);
  }
});

test('formatInZone shows the time in the org zone, in the language', () => {
  const ms = at('2026-12-07T00:00:00Z');
  assert.match(formatInZone(ms, 'Asia/Tokyo', 'ja-JP'), /12月7日.*9:00/);
  assert.match(formatInZone(ms, 'America/New_York', 'en-US'), /Dec 6.*7:00/);
});
