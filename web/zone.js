// Wall-clock arithmetic in an IANA time zone (the org's, from GET /api/v1/me), and the snooze
// presets computed in it. Pure: no DOM; `now` is always passed in.

const partsCache = new Map();

function formatter(timeZone) {
  let f = partsCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsCache.set(timeZone, f);
  }
  return f;
}

/** A valid IANA zone name, else 'UTC'. */
export function safeZone(timeZone) {
  if (typeof timeZone !== 'string' || !timeZone) return 'UTC';
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** Wall-clock fields of instant `ms` in `timeZone`: {y, m (1-12), d, h, mi, s, wd (0 = Sunday)}. */
export function wallClock(ms, timeZone) {
  const out = {};
  for (const p of formatter(safeZone(timeZone)).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  const w = { y: out.year, m: out.month, d: out.day, h: out.hour % 24, mi: out.minute, s: out.second };
  w.wd = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay();
  return w;
}

/** The zone's offset from UTC at instant `ms`, in ms (e.g. +9 h for Asia/Tokyo). */
export function offsetAt(ms, timeZone) {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at wall-clock y-m-d h:mi in `timeZone` (fields may overflow: d + 7 is fine).
 * In a DST gap the time moves forward by the gap; in an overlap the earlier instant is taken.
 */
export function zonedTime(y, m, d, h, mi, timeZone) {
  const guess = Date.UTC(y, m - 1, d, h, mi);
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  const fits = [first, second].filter((ms) => {
    const w = wallClock(ms, timeZone);
    return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi) === guess;
  });
  return fits.length ? Math.min(...fits) : Math.max(first, second);
}

export const MORNING_HOUR = 9;
export const LATER_HOURS = 3;
export const EVENING_HOUR = 21; // "later today" is offered only if it lands on or before 21:00
// When "later today" is not offered (it would land after 21:00), "in 1 hour" takes its place, as
// Slack's "In 1 hour": a rep working late can still put a signal off a little. Not "in 3 hours"
// (22:00 + 3 h is the middle of the night) and not nothing (Gmail's choice: tomorrow is too far).
export const SOON_MS = 3600_000;

/**
 * Snooze presets at `now` (ms) in the org's zone, in menu order:
 * - later: now + 3 h rounded up to the full hour, only while that is still today and <= 21:00;
 * - inHour: otherwise now + 1 h (rounded up to the minute), an elapsed hour whatever the wall clock;
 * - tomorrow: tomorrow at 09:00;
 * - nextWeek: next Monday at 09:00 (a week later when today is Monday).
 * → [{key, until: ISO string, ms}]
 */
export function snoozePresets(now, timeZone) {
  const tz = safeZone(timeZone);
  const today = wallClock(now, tz);
  const out = [];
  const plus = wallClock(now + LATER_HOURS * 3600_000, tz);
  const roundUp = plus.mi > 0 || plus.s > 0 ? 1 : 0;
  const laterMs = zonedTime(plus.y, plus.m, plus.d, plus.h + roundUp, 0, tz);
  const later = wallClock(laterMs, tz);
  const sameDay = later.y === today.y && later.m === today.m && later.d === today.d;
  if (sameDay && (later.h < EVENING_HOUR || (later.h === EVENING_HOUR && later.mi === 0))) {
    out.push({ key: 'later', ms: laterMs });
  }
  const tomorrow = zonedTime(today.y, today.m, today.d + 1, MORNING_HOUR, 0, tz);
  const soon = Math.ceil((now + SOON_MS) / 60_000) * 60_000;
  if (!out.length && soon < tomorrow) out.push({ key: 'inHour', ms: soon });
  out.push({ key: 'tomorrow', ms: tomorrow });
  const toMonday = ((8 - today.wd) % 7) || 7;
  out.push({ key: 'nextWeek', ms: zonedTime(today.y, today.m, today.d + toMonday, MORNING_HOUR, 0, tz) });
  return out.map((p) => ({ ...p, until: new Date(p.ms).toISOString() }));
}

/** "12月1日(火) 9:00" / "Tue, Dec 1, 9:00 AM" for an instant, shown in the org's zone. */
export function formatInZone(ms, timeZone, locale) {
  return new Intl.DateTimeFormat(locale, {
    timeZone: safeZone(timeZone),
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    hour: 'numeric',
    minute: '2-digit',
  }).format(new Date(ms));
}
