// Pure logic of the admin console (no DOM, no network): strings, time zones, data shaping for the
// tables and the chart, query strings, file names. Tested by web/tests/admin_*.test.js.
import { offsetAt, wallClock } from '../zone.js';
import { ADMIN_STRINGS } from './strings.js';

/** The admin string `key` in `lang` (English, then the key itself, as fallback), `{name}` filled. */
export function tr(lang, key, vars) {
  const s = ADMIN_STRINGS[lang]?.[key] ?? ADMIN_STRINGS.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

export function localeOf(lang) {
  return lang === 'ja' ? 'ja-JP' : 'en-US';
}

export function formatNumber(n, lang) {
  return new Intl.NumberFormat(localeOf(lang)).format(n);
}

// ---- time zones ------------------------------------------------------------------------------

/** Today's date (YYYY-MM-DD) in zone `tz` at instant `nowMs`. */
export function dayInZone(nowMs, tz) {
  const p = wallClock(nowMs, tz);
  return `${String(p.y).padStart(4, '0')}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/** The instant of the next local midnight in zone `tz` after `nowMs` (DST-safe). */
export function nextLocalMidnight(nowMs, tz) {
  const p = wallClock(nowMs, tz);
  const wallMidnight = Date.UTC(p.y, p.m - 1, p.d + 1, 0, 0, 0);
  // Two passes: the offset at the guess may differ from the one at midnight (DST change today).
  let guess = wallMidnight - offsetAt(wallMidnight, tz);
  guess = wallMidnight - offsetAt(guess, tz);
  return guess;
}

/** When today's email limits reset: the API's `resets_in_seconds` from `nowMs`, else the next
 *  local midnight of the org's zone. */
export function resetInstant(email, nowMs) {
  const secs = email?.resets_in_seconds;
  if (Number.isFinite(secs) && secs >= 0) return nowMs + secs * 1000;
  return nextLocalMidnight(nowMs, email?.timezone || 'UTC');
}

/** `ms` as a date and time in zone `tz`, e.g. "2026/12/01 0:00" (ja) or "Dec 1, 2026, 12:00 AM" (en). */
export function formatInZone(ms, tz, lang) {
  return new Intl.DateTimeFormat(localeOf(lang), { timeZone: tz, dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(ms),
  );
}

/** "Resets 2026/12/01 0:00 (Asia/Tokyo)" for the usage view. */
export function resetLabel(email, nowMs, lang) {
  const tz = email?.timezone || 'UTC';
  return tr(lang, 'admin.usage.resets', { when: formatInZone(resetInstant(email, nowMs), tz, lang), tz });
}

/** Add `days` to a YYYY-MM-DD date. */
export function addDays(day, days) {
  const [y, m, d] = day.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return t.toISOString().slice(0, 10);
}

// ---- usage -----------------------------------------------------------------------------------

/** One bar per email limit: used, limit, percent (0-100, whole), remaining, full. */
export function usageBars(usage) {
  const email = usage?.email || {};
  return [
    ['individual', 'admin.usage.emailIndividual'],
    ['mass', 'admin.usage.emailMass'],
  ].map(([key, label]) => {
    const used = Number(email[key]?.used ?? 0);
    const limit = Number(email[key]?.limit ?? 0);
    const pct = limit > 0 ? Math.min(100, Math.round((100 * used) / limit)) : 0;
    return { key, label, used, limit, pct, remaining: Math.max(0, limit - used), full: limit > 0 && used >= limit };
  });
}

// ---- credits ---------------------------------------------------------------------------------

/** The auto-recharge form as the API body: numbers where the text is a whole number, the text
 *  itself otherwise (so the API's validation names the field); `max_per_day` only when filled in. */
export function autoRechargeBody(form) {
  const num = (text) => {
    const s = String(text ?? '').trim();
    return /^\d{1,15}$/.test(s) ? Number(s) : s;
  };
  const body = { enabled: Boolean(form.enabled), threshold: num(form.threshold), amount: num(form.amount) };
  if (String(form.max_per_day ?? '').trim() !== '') body.max_per_day = num(form.max_per_day);
  return body;
}

/** The field an API error is about, from its detail ("'threshold' must be ..."), or null. */
export function errorField(detail) {
  const m = /^'([a-z_]+)'/.exec(String(detail || ''));
  return m ? m[1] : null;
}

// ---- errors ----------------------------------------------------------------------------------

const KNOWN_CODES = new Set([
  'network', 'timeout', 'invalid_field', 'invalid_body', 'invalid_parameter', 'invalid_transition',
  'invalid_template', 'template_exists', 'module_immutable', 'dlt_template_required',
]);

/** A user-facing sentence for an ApiError-like `{status, code, detail}` in `lang`. */
export function errorMessage(err, lang) {
  const code = err?.code || 'error';
  // ... and any other code the strings name (admin.error.<code>), e.g. the telephony views' codes
  const named = /^[a-z_]+$/.test(code) && !['generic', 'server', 'field'].includes(code) && `admin.error.${code}` in ADMIN_STRINGS.en;
  if (KNOWN_CODES.has(code) || named) {
    return tr(lang, `admin.error.${code}`);
  }
  if (err?.status === 401) return tr(lang, 'admin.error.unauthorized');
  if (err?.status === 403) return tr(lang, 'admin.error.forbidden');
  if (err?.status === 404) return tr(lang, 'admin.error.not_found');
  return tr(lang, 'admin.error.generic', { code });
}

// ---- templates -------------------------------------------------------------------------------

/** Status chips of a template: its status, plus a pending/draft new version of an approved one
 *  when the API reports the approved version still serving (`approved_version` < `version`). */
export function templateChips(t) {
  const own = { kind: t.status, key: `admin.templates.status.${t.status}` };
  const serving = Number(t.approved_version ?? t.live_version ?? NaN);
  const version = Number(t.version ?? 1);
  if (!(Number.isFinite(serving) && serving < version && t.status !== 'approved')) return [own];
  const next =
    t.status === 'pending' ? { kind: 'pending', key: 'admin.templates.status.newVersion', vars: { version } }
    : t.status === 'draft' ? { kind: 'draft', key: 'admin.templates.status.newDraft', vars: { version } }
    : own;
  return [{ kind: 'approved', key: 'admin.templates.serving', vars: { version: serving } }, next];
}

/** Which lifecycle buttons a template shows (SMS only); the API decides, these are the useful ones. */
export function templateActions(t) {
  if (t.channel !== 'sms') return [];
  if (t.status === 'draft' || t.status === 'rejected') return ['submit'];
  if (t.status === 'pending') return ['approve', 'reject'];
  return [];
}

// ---- email report ----------------------------------------------------------------------------

export const REPORT_FIELDS = ['sent', 'bounced', 'opened', 'clicked', 'received', 'replied'];
export const RATE_FIELDS = ['bounced', 'opened', 'clicked', 'replied'];

/** `?from=&to=&group=` for the report. */
export function reportQuery({ from, to, group }) {
  const q = new URLSearchParams();
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  q.set('group', ['day', 'week', 'month'].includes(group) ? group : 'day');
  return `?${q}`;
}

/** uPlot's data for the report: x = row index (labels are the periods), one series per field. */
export function reportSeries(report) {
  const rows = Array.isArray(report?.rows) ? report.rows : [];
  const labels = rows.map((r) => String(r.period));
  const data = [rows.map((_, i) => i), ...REPORT_FIELDS.map((f) => rows.map((r) => Number(r[f] ?? 0)))];
  return { labels, fields: REPORT_FIELDS, data };
}

/** Table cells of a report row: count and, for rate fields, "count (rate%)". */
export function reportCells(row, lang) {
  return REPORT_FIELDS.map((f) => {
    const count = formatNumber(Number(row?.[f] ?? 0), lang);
    const rate = row?.[`${f}_rate`];
    return RATE_FIELDS.includes(f) && rate !== undefined ? `${count} (${tr(lang, 'admin.report.rate', { n: rate })})` : count;
  });
}

// ---- call log --------------------------------------------------------------------------------

const CALL_FILTERS = ['from', 'to', 'direction', 'user', 'status'];

/** `?format=&from=&to=&direction=&user=&status=` with only the filters that are set (and the
 *  page `cursor` the API gave for JSON). */
export function callsQuery(filters, format = 'json', cursor = null) {
  const q = new URLSearchParams({ format });
  for (const key of CALL_FILTERS) {
    const v = String(filters?.[key] ?? '').trim();
    if (v) q.set(key, v);
  }
  if (cursor && format === 'json') q.set('cursor', cursor);
  return `?${q}`;
}

/** The rows that match the filters (the same rules the API applies; a safety net while it
 *  answers unfiltered): dates compared in the org's zone, `to` inclusive. */
export function filterCalls(rows, filters, tz = 'UTC') {
  const f = filters || {};
  return (rows || []).filter((c) => {
    const started = Date.parse(c.started_at);
    const day = Number.isFinite(started) ? dayInZone(started, tz) : '';
    if (f.from && day && day < f.from) return false;
    if (f.to && day && day > f.to) return false;
    if (f.direction && c.direction !== f.direction) return false;
    if (f.user && (c.user ?? '') !== f.user) return false;
    if (f.status && c.status !== f.status) return false;
    return true;
  });
}

/** The CSV's file name, as the API names it: "calls-acme_2026-11-01_2026-11-30.csv" ("all" for an
 *  open end); only safe characters. */
export function callsFilename(org, from, to) {
  const safe = (s) => String(s || '').replace(/[^A-Za-z0-9-]/g, '').slice(0, 25) || 'all';
  return `calls-${safe(org)}_${safe(from)}_${safe(to)}.csv`;
}

/** The file name in a Content-Disposition header (`attachment; filename="x.csv"`), or null. */
export function dispositionFilename(header) {
  const m = /filename="?([^";]+)"?/i.exec(String(header || ''));
  const name = m ? m[1].replace(/[^A-Za-z0-9._-]/g, '') : '';
  return name || null;
}

/** "1:05" style duration; "" when unknown. */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '';
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return `${m}:${s}`;
}

// ---- mailboxes -------------------------------------------------------------------------------

export const MAILBOX_STATES = ['idle', 'connecting', 'auth_failed', 'tls_failed', 'backoff'];

/** Chip tone of a mailbox state: ok / wait / bad. */
export function mailboxTone(state) {
  if (state === 'idle') return 'ok';
  if (state === 'auth_failed' || state === 'tls_failed') return 'bad';
  return 'wait';
}

const MAILBOX_PORTS = { implicit: 993, starttls: 143, none: 143 };

/** A mailbox form's port as typed: empty → the TLS mode's default, digits → a number, anything
 *  else as is (the API says what is wrong with it). */
export function mailboxPort(form) {
  const raw = String(form.port).trim();
  return raw === '' ? MAILBOX_PORTS[form.tls] : /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** The PATCH body of a mailbox edit form: the fields that differ from `box` (as GET showed it) and
 *  a password only when one was typed — or always with `only` = 'password' (an empty one is the
 *  API's to refuse, beside the field). */
export function mailboxChanges(box, form, only) {
  const out = {};
  if (only === 'password' || form.password !== '') out.password = form.password;
  if (only === 'password') return out;
  const now = { user: form.user, host: form.host.trim(), port: mailboxPort(form), tls: form.tls,
    username: form.username.trim(), folder: form.folder.trim(), mode: form.mode };
  for (const [key, value] of Object.entries(now)) {
    if (value !== box[key]) out[key] = value;
  }
  return out;
}
