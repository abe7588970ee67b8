// Pure logic of the messaging admin views (contacts, segments, suppressions, SMS notifications,
// automation rules, reminders, template versions): forms ↔ API bodies, result summaries, time zones.
// No DOM, no network; tested by web/tests/admin_messaging.test.js.

import { offsetAt, wallClock } from '../zone.js';
import { formatNumber, tr } from './logic.js';

// ---- segments: match rows ↔ the API's match object ---------------------------------------------

/** The keys a segment may match on (besides `fields.<name>`), as the API names them. */
export const MATCH_KINDS = ['kind', 'owner', 'company', 'marketing', 'field'];
export const FIELD_TYPES = ['text', 'number', 'bool'];
const FIELD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** An empty match row for the editor. */
export function emptyMatchRow(kind = 'kind') {
  return { kind, name: '', value: kind === 'kind' ? 'lead' : kind === 'marketing' ? 'true' : '', type: 'text' };
}

/** The editor's rows for a stored `match` (`{"kind": "lead", "fields.region": "関西"}`). */
export function matchToRows(match) {
  return Object.entries(match || {}).map(([key, value]) => {
    if (key.startsWith('fields.')) {
      const type = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'bool' : 'text';
      return { kind: 'field', name: key.slice(7), value: String(value), type };
    }
    return { kind: key, name: '', value: String(value), type: 'text' };
  });
}

/** The API's `match` from the editor's rows → {match, errors: [{row, problem}]} (rows from 0;
 *  problem: 'name' (no/invalid field name), 'number' (not a number), 'duplicate' (key given twice)). */
export function rowsToMatch(rows) {
  const match = {};
  const errors = [];
  (rows || []).forEach((row, i) => {
    let key = row.kind;
    let value = String(row.value ?? '');
    if (row.kind === 'field') {
      const name = String(row.name ?? '').trim();
      if (!FIELD_NAME.test(name)) {
        errors.push({ row: i, problem: 'name' });
        return;
      }
      key = `fields.${name}`;
      if (row.type === 'number') {
        const n = Number(value.trim());
        if (value.trim() === '' || !Number.isFinite(n)) {
          errors.push({ row: i, problem: 'number' });
          return;
        }
        value = n;
      } else if (row.type === 'bool') {
        value = value === 'true';
      }
    } else if (row.kind === 'marketing') {
      value = value === 'true';
    } else {
      value = value.trim();
    }
    if (key in match) {
      errors.push({ row: i, problem: 'duplicate' });
      return;
    }
    match[key] = value;
  });
  return { match, errors };
}

// ---- contacts import ---------------------------------------------------------------------------

/** How to send pasted or picked text to `contacts:import`: a JSON body (an object `{contacts}` or a
 *  bare array of contacts) or the CSV text as is. → {type: 'json', body} | {type: 'csv', text} |
 *  {type: 'invalid'} (it looks like JSON but does not parse). */
export function importPayload(text, filename = '') {
  const s = String(text ?? '');
  const trimmed = s.replace(/^\uFEFF/, '').trim();
  const looksJson = /\.json$/i.test(filename) || (!/\.csv$/i.test(filename) && /^[[{]/.test(trimmed));
  if (!looksJson) return { type: 'csv', text: s };
  try {
    const parsed = JSON.parse(trimmed);
    return { type: 'json', body: Array.isArray(parsed) ? { contacts: parsed } : parsed };
  } catch {
    return { type: 'invalid' };
  }
}

/** The import answer as the results table shows it: counts and one row per input row (row, id,
 *  status, reason, detail), errors first so they are seen, then in row order. */
export function importSummary(answer) {
  const results = Array.isArray(answer?.results) ? answer.results : [];
  const count = (s) => results.filter((r) => r.status === s).length;
  const rows = results
    .map((r) => ({
      row: Number(r.row), id: r.id ?? '', status: r.status, reason: r.reason ?? '', detail: r.detail ?? '',
    }))
    .sort((a, b) => (a.status === 'error') === (b.status === 'error') ? a.row - b.row : a.status === 'error' ? -1 : 1);
  return {
    created: Number(answer?.created ?? count('created')),
    updated: Number(answer?.updated ?? count('updated')),
    errors: Number(answer?.errors ?? count('error')),
    rows,
  };
}

// ---- automation rules: unread_for in minutes ---------------------------------------------------

/** The form's minutes as the API's seconds: '' → null (no escalation), a positive number of
 *  minutes (decimals allowed: 0.5 = 30 s) → whole seconds; anything else → NaN (the form says so). */
export function minutesToSeconds(text) {
  const s = String(text ?? '').trim();
  if (s === '') return null;
  if (!/^\d+(\.\d+)?$/.test(s)) return NaN;
  const secs = Math.round(Number(s) * 60);
  return secs >= 1 ? secs : NaN;
}

/** The API's seconds as the form's minutes ('' when none): 600 → '10', 90 → '1.5'. */
export function secondsToMinutes(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(Number(secs))) return '';
  return String(Math.round((Number(secs) / 60) * 1000) / 1000);
}

/** The rule form as the API body (`to`: 'contact' | 'owner' | 'user' + user id). */
export function ruleBody(form) {
  const to = form.to === 'user' ? { user: String(form.user || '').trim() } : form.to;
  const body = {
    on: form.on,
    action: { channel: form.channel, template: form.template, to },
    enabled: Boolean(form.enabled),
  };
  if (String(form.name ?? '').trim()) body.name = String(form.name).trim();
  const secs = minutesToSeconds(form.unread_for);
  if (secs !== null) body.unread_for = secs;
  return body;
}

/** A stored rule as the form. */
export function ruleForm(rule) {
  const to = rule?.action?.to;
  return {
    id: rule?.id ?? '',
    name: rule?.name ?? '',
    on: rule?.on ?? 'call.missed',
    unread_for: secondsToMinutes(rule?.unread_for),
    channel: rule?.action?.channel ?? 'sms',
    template: rule?.action?.template ?? '',
    to: to && typeof to === 'object' ? 'user' : to ?? 'contact',
    user: to && typeof to === 'object' ? to.user : '',
    enabled: rule ? Boolean(rule.enabled) : true,
  };
}

// ---- merge data rows ---------------------------------------------------------------------------

/** A blank merge data row. */
export function emptyDataRow() {
  return { name: '', value: '' };
}

/** `[{name, value}]` rows of the trigger form as the `data` object (empty names skipped). */
export function dataFromRows(rows) {
  const data = {};
  for (const r of rows || []) {
    const name = String(r.name ?? '').trim();
    if (name) data[name] = String(r.value ?? '');
  }
  return data;
}

/** One summary of a trigger's per-contact results: {sent, failed, rows: [{contact, notification,
 *  error}]}. */
export function triggerSummary(answer) {
  const rows = (answer?.results || []).map((r) => ({
    contact: r.contact, name: r.name ?? '', notification: r.notification ?? '', error: r.error ?? '',
  }));
  return { sent: rows.filter((r) => r.notification).length, failed: rows.filter((r) => r.error).length, rows };
}

/** A fresh idempotency key for a send from the page (so a double click or a retry sends once). */
export function newIdempotencyKey(prefix = 'admin') {
  const rnd = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${rnd}`;
}

// ---- segment sends (fan-out progress) ----------------------------------------------------------

/** The progress of a segment send: {pct (0-100), done, of, skipped, finished, walked}. `of` counts
 *  the members that get a message: `enqueued` once the fan-out is `done` (walked), and while it
 *  walks the members found so far less those skipped (no phone in the field, ...), so a send that
 *  skips most of the segment still moves its bar. It is finished when walked and every member
 *  notification has an outcome (`done` reaches `enqueued`). */
export function fanoutProgress(f) {
  const count = (x) => Math.max(0, Number(x ?? 0) || 0);
  const total = count(f?.total);
  const enqueued = count(f?.enqueued);
  const skipped = count(f?.skipped);
  const done = count(f?.done);
  const walked = f?.status === 'done';
  const of = walked ? enqueued : Math.max(enqueued, total - skipped);
  const finished = walked && done >= enqueued;
  const pct = of > 0 ? Math.min(100, Math.floor((100 * done) / of)) : walked ? 100 : 0;
  return { pct: finished ? 100 : Math.min(pct, 99), done, of, skipped, finished, walked };
}

/** The line under a segment send's bar in `lang`: "Sending… 6 of 12 sent (50%)" / "Done: 12 of 12
 *  sent", then " · 1,488 skipped (no mobile)" when members were skipped (`why`: why, if known). */
export function fanoutText(fanout, lang, why = '') {
  const p = fanoutProgress(fanout);
  const n = (x) => formatNumber(x, lang);
  const vars = { done: n(p.done), of: n(p.of), pct: p.pct, skipped: n(p.skipped), why };
  const main = tr(lang, p.finished ? 'admin.fanout.done' : 'admin.fanout.running', vars);
  if (!p.skipped) return main;
  return main + tr(lang, why ? 'admin.fanout.skippedWhy' : 'admin.fanout.skipped', vars);
}

/** `?limit=&cursor=` for a segment send's per-member results. */
export function fanoutResultsQuery(cursor = null, limit = 25) {
  const p = new URLSearchParams();
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(limit));
  return `?${p}`;
}

// ---- reminders: local time in the org's zone ↔ ISO with offset --------------------------------

const pad = (n, w = 2) => String(n).padStart(w, '0');

function offsetText(offsetMs) {
  const mins = Math.round(offsetMs / 60000);
  const sign = mins < 0 ? '-' : '+';
  const a = Math.abs(mins);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** Instant `ms` as ISO 8601 in zone `tz` with its offset: "2026-03-08T03:30:00-04:00". */
export function isoInZone(ms, tz) {
  const p = wallClock(ms, tz);
  return `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${offsetText(offsetAt(ms, tz))}`;
}

/** A `datetime-local` value ("2026-11-30T09:00") read as wall-clock time in IANA zone `tz` → ISO
 *  8601 with that zone's offset at that moment, or null if not a valid value. A time skipped by a
 *  DST change (02:30 on a spring-forward day) moves forward by the gap (→ 03:30); a repeated one
 *  (01:30 on a fall-back day) is the earlier of the two — as Temporal's "compatible" does. */
export function localToIso(value, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(value ?? ''));
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return null;
  // The offsets a day either side: a zone changes its offset at most once in that window.
  const before = offsetAt(wall - 86_400_000, tz);
  const after = offsetAt(wall + 86_400_000, tz);
  const fits = (t) => t + offsetAt(t, tz) === wall;
  const candidates = [wall - before, wall - after].filter(fits);
  const instant = candidates.length ? Math.min(...candidates) : wall - before;
  return isoInZone(instant, tz);
}

/** An ISO instant as the `datetime-local` value of its wall-clock time in `tz` ("" if invalid). */
export function isoToLocal(iso, tz) {
  const ms = Date.parse(String(iso ?? ''));
  if (!Number.isFinite(ms)) return '';
  const p = wallClock(ms, tz);
  return `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/** `?user=&status=&cursor=&limit=` for the reminders list, only what is set. */
export function remindersQuery(filters, cursor = null, limit = 50) {
  const q = new URLSearchParams();
  const user = String(filters?.user ?? '').trim();
  if (user) q.set('user', user);
  if (filters?.status) q.set('status', filters.status);
  if (cursor) q.set('cursor', cursor);
  q.set('limit', String(limit));
  return `?${q}`;
}

/** `?q=&cursor=&limit=` for the contacts list. */
export function contactsQuery(q, cursor = null, limit = 25) {
  const p = new URLSearchParams();
  const s = String(q ?? '').trim();
  if (s) p.set('q', s);
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(limit));
  return `?${p}`;
}

// ---- templates: live version and the candidate --------------------------------------------------

/** The live version and the new (candidate) version of a template as the API shows it:
 *  {live: {version, status}, candidate: {version, status, body, reject_reason} | null}. */
export function templateVersions(t) {
  const cand = t?.pending || t?.draft || null;
  return {
    live: { version: Number(t?.version ?? 1), status: t?.status },
    candidate: cand ? { ...cand, version: Number(cand.version) } : null,
  };
}

// ---- sender registration -----------------------------------------------------------------------

export const SENDER_FIELDS = ['sender_id', 'entity_id', 'entity_name', 'sender_unique_id', 'operator'];
export const PROFILE_FIELDS = ['legal_name', 'brand_name', 'city', 'state', 'postal_code'];

/** The sender registration rows: {group, field, value, missing} for each field of the source's list. */
export function senderRows(org) {
  const missing = new Set(org?.sender_registration?.missing || []);
  const rows = [];
  for (const [group, fields] of [['sender', SENDER_FIELDS], ['profile', PROFILE_FIELDS]]) {
    for (const field of fields) {
      const value = org?.[group]?.[field];
      rows.push({ group, field, value: value ?? '', missing: missing.has(`${group}.${field}`) || value == null || value === '' });
    }
  }
  return rows;
}
