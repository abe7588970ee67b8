// Pure logic of the telephony admin views (no DOM, no network): editing a call flow's step list
// (add / move / remove / update, nested `hours.closed` lists), turning the API's error path
// (`steps[2].ring.group`) into the step it is about, readable step summaries and the
// draft-vs-published comparison, and the request bodies the views send. Tested by
// web/tests/admin_telephony.test.js.
import { tr } from './logic.js';

export const STEP_TYPES = ['say', 'hours', 'ring', 'queue', 'voicemail', 'hangup'];
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const STRATEGIES = ['simultaneous', 'sequential'];
export const NUMBER_TYPES = ['local', 'mobile', 'toll_free'];
// Twilio's <Say> languages, as the API accepts them (gateway/domain/call_flows.py LANGUAGES).
export const SAY_LANGUAGES = [
  'ja-JP', 'en-US', 'en-GB', 'en-AU', 'en-CA', 'en-IN', 'zh-CN', 'zh-HK', 'zh-TW', 'ko-KR', 'ca-ES', 'da-DK',
  'de-DE', 'es-ES', 'es-MX', 'fi-FI', 'fr-CA', 'fr-FR', 'it-IT', 'nb-NO', 'nl-NL', 'pl-PL', 'pt-BR', 'pt-PT',
  'ru-RU', 'sv-SE',
];
export const DEFAULT_TIMEOUT = 20;
export const DEFAULT_MAX_LENGTH = 120;
export const DEFAULT_MAX_WAIT = 300;

// ---- steps: kinds and new ones --------------------------------------------------------------

/** The type of a step (`say`, `hours`, ...), or null for a malformed one. */
export function stepKind(step) {
  return STEP_TYPES.find((k) => step && typeof step === 'object' && k in step) || null;
}

let counter = 0;
/** A key that identifies a step in the editor while it moves (never sent to the API). */
export function newKey() {
  counter += 1;
  return `s${counter}`;
}

/** A new step of `kind`, with the API's defaults, ready to edit. */
export function newStep(kind, lang = 'ja') {
  const language = lang === 'ja' ? 'ja-JP' : 'en-US';
  switch (kind) {
    case 'say':
      return { _k: newKey(), say: '', language };
    case 'hours':
      return {
        _k: newKey(),
        hours: { open: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }], closed: [] },
      };
    case 'ring':
      return { _k: newKey(), ring: { users: [] }, strategy: 'simultaneous', timeout: DEFAULT_TIMEOUT };
    case 'queue':
      return {
        _k: newKey(),
        queue: {
          group: '', hold_music: '', max_wait: DEFAULT_MAX_WAIT, timeout: DEFAULT_TIMEOUT, message: '', whisper: '', language,
        },
      };
    case 'voicemail':
      return { _k: newKey(), voicemail: { user: '', prompt: '', max_length: DEFAULT_MAX_LENGTH, language } };
    case 'hangup':
      return { _k: newKey(), hangup: true };
    default:
      throw new Error(`unknown step type ${kind}`);
  }
}

/** Steps as the API gave them, each (and each nested `closed` step) with an editor key. */
export function withKeys(steps) {
  return (steps || []).map((step) => {
    const out = { ...step, _k: step._k || newKey() };
    if (stepKind(step) === 'hours') {
      out.hours = { ...step.hours, closed: withKeys(step.hours?.closed || []) };
    }
    return out;
  });
}

/** Steps as the API takes them: editor keys removed, numbers that are whole numbers as numbers (the
 *  rest left as typed, so the API's validation names the field). */
export function apiSteps(steps) {
  return (steps || []).map((step) => {
    const { _k, ...rest } = step;
    const kind = stepKind(rest);
    if (kind === 'hours') return { hours: { open: rest.hours.open, closed: apiSteps(rest.hours.closed) } };
    if (kind === 'ring') return { ...rest, timeout: wholeNumber(rest.timeout) };
    if (kind === 'queue') {
      const q = { ...rest.queue, max_wait: wholeNumber(rest.queue.max_wait), timeout: wholeNumber(rest.queue.timeout) };
      if (!q.hold_music) delete q.hold_music;
      if (!q.message) delete q.message;
      if (!q.whisper) delete q.whisper;
      return { queue: q };
    }
    if (kind === 'voicemail') {
      const vm = { ...rest.voicemail, max_length: wholeNumber(rest.voicemail.max_length) };
      if (!vm.prompt) delete vm.prompt;
      return { voicemail: vm };
    }
    return rest;
  });
}

function wholeNumber(value) {
  const s = String(value ?? '').trim();
  return /^\d{1,9}$/.test(s) ? Number(s) : s;
}

// ---- step paths ------------------------------------------------------------------------------
// A step's place is a list of indices: [2] is steps[2]; [0, 1] is steps[0].hours.closed[1].
// A *list* path names a step list: [] is the flow's steps; [0] is steps[0].hours.closed.

/** The API's name for the step at `path`: [0, 1] → "steps[0].hours.closed[1]". */
export function stepPathName(path) {
  return path.map((i, depth) => (depth === 0 ? `steps[${i}]` : `.hours.closed[${i}]`)).join('');
}

/** A label people read: [2] → "3"; [0, 1] → "1 › 2". */
export function stepLabel(path) {
  return path.map((i) => String(i + 1)).join(' › ');
}

/** The step list at `listPath` inside `steps` (undefined if it is not there). */
export function listAt(steps, listPath) {
  let list = steps;
  for (const i of listPath) {
    const step = list?.[i];
    if (stepKind(step) !== 'hours') return undefined;
    list = step.hours.closed;
  }
  return list;
}

/** `steps` with the list at `listPath` replaced by `fn(list)` (nothing else copied or changed). */
function editList(steps, listPath, fn) {
  if (!listPath.length) return fn(steps);
  const [head, ...tail] = listPath;
  return steps.map((step, i) =>
    i === head ? { ...step, hours: { ...step.hours, closed: editList(step.hours.closed, tail, fn) } } : step,
  );
}

/** Add `step` at the end of the list at `listPath`. */
export function addStep(steps, listPath, step) {
  return editList(steps, listPath, (list) => [...list, step]);
}

/** Remove the step at `path`. */
export function removeStep(steps, path) {
  const at = path[path.length - 1];
  return editList(steps, path.slice(0, -1), (list) => list.filter((_, i) => i !== at));
}

/** Move the step at `path` by `delta` (-1 up, +1 down) within its list; its new path (the same
 *  path when it cannot move). */
export function moveStep(steps, path, delta) {
  const at = path[path.length - 1];
  const to = at + delta;
  const listPath = path.slice(0, -1);
  const list = listAt(steps, listPath);
  if (!list || to < 0 || to >= list.length) return { steps, path };
  const next = editList(steps, listPath, (l) => {
    const copy = [...l];
    [copy[at], copy[to]] = [copy[to], copy[at]];
    return copy;
  });
  return { steps: next, path: [...listPath, to] };
}

/** Replace the step at `path` by `fn(step)`. */
export function updateStep(steps, path, fn) {
  const at = path[path.length - 1];
  return editList(steps, path.slice(0, -1), (list) => list.map((s, i) => (i === at ? fn(s) : s)));
}

// ---- the API's error path --------------------------------------------------------------------

/** Where a 400 `invalid_flow` detail points: `{step: [2], field: 'ring.group', message}` for
 *  "steps[2].ring.group: unknown group 'x'", `{step: [0, 1], field: 'voicemail.user'}` inside a
 *  closed branch, `{step: null, field: 'number'}` for a flow field, `{step: null, field: 'steps'}`
 *  for the list itself; null when the detail names no path. */
export function errorTarget(detail) {
  const text = String(detail || '');
  const m = /^([A-Za-z_][\w.[\]]*?): (.*)$/s.exec(text);
  if (!m) return null;
  const [, where, message] = m;
  const step = [];
  let rest = where;
  const top = /^steps\[(\d+)\]/.exec(rest);
  if (!top) return { step: null, field: where, message };
  step.push(Number(top[1]));
  rest = rest.slice(top[0].length);
  for (;;) {
    const nested = /^\.hours\.closed\[(\d+)\]/.exec(rest);
    if (!nested) break;
    step.push(Number(nested[1]));
    rest = rest.slice(nested[0].length);
  }
  return { step, field: rest.replace(/^\./, ''), message };
}

/** Whether two step paths are the same place. */
export function samePath(a, b) {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---- readable summaries and the draft-vs-published comparison -------------------------------

function nameOf(names, id) {
  return names?.[id] ? `${names[id]}` : id;
}

/** One line describing a step (its closed branch is listed separately by flattenSteps). */
export function stepSummary(step, lang, names = {}) {
  const t = (k, v) => tr(lang, k, v);
  const kind = stepKind(step);
  if (kind === 'say') return t('admin.flow.sum.say', { text: step.say, language: step.language || 'ja-JP' });
  if (kind === 'hours') {
    const windows = (step.hours?.open || [])
      .map((w) => `${(w.days || []).map((d) => t(`admin.flow.day.${d}`)).join('・')} ${w.from}–${w.to}`)
      .join(', ');
    return t('admin.flow.sum.hours', { windows, n: (step.hours?.closed || []).length });
  }
  if (kind === 'ring') {
    const who = 'group' in (step.ring || {})
      ? t('admin.flow.sum.group', { name: nameOf(names.groups, step.ring.group) })
      : (step.ring?.users || []).map((u) => nameOf(names.users, u)).join('、');
    return t('admin.flow.sum.ring', {
      who,
      strategy: t(`admin.flow.strategy.${step.strategy || 'simultaneous'}`),
      timeout: step.timeout ?? DEFAULT_TIMEOUT,
    });
  }
  if (kind === 'queue') {
    const q = step.queue || {};
    return t(q.hold_music ? 'admin.flow.sum.queueMusic' : 'admin.flow.sum.queue', {
      name: nameOf(names.groups, q.group),
      wait: q.max_wait ?? DEFAULT_MAX_WAIT,
      timeout: q.timeout ?? DEFAULT_TIMEOUT,
    });
  }
  if (kind === 'voicemail') {
    const vm = step.voicemail || {};
    return t('admin.flow.sum.voicemail', {
      user: nameOf(names.users, vm.user),
      max: vm.max_length ?? DEFAULT_MAX_LENGTH,
      prompt: vm.prompt || '',
    }).trim();
  }
  if (kind === 'hangup') return t('admin.flow.sum.hangup');
  return t('admin.flow.sum.unknown');
}

/** Every step (closed branches after their hours step) as {key: "2" | "1 › 3", depth, text}. */
export function flattenSteps(steps, lang, names, prefix = []) {
  const out = [];
  (steps || []).forEach((step, i) => {
    const path = [...prefix, i];
    out.push({ key: stepLabel(path), depth: prefix.length, text: stepSummary(step, lang, names) });
    if (stepKind(step) === 'hours') out.push(...flattenSteps(step.hours?.closed, lang, names, path));
  });
  return out;
}

/** The draft and the published version side by side: a row per flow field and per step place,
 *  each `{key, label, draft, published, change}` with change one of same / changed / added
 *  (only in the draft) / removed (only in the published version). */
export function compareFlows(draft, published, lang, names = {}) {
  const rows = [];
  for (const field of ['name', 'description', 'number']) {
    const d = draft?.[field] ?? '';
    const p = published ? published[field] ?? '' : null;
    rows.push({ key: field, label: tr(lang, `admin.flow.${field}`), draft: d, published: p, change: changeOf(d, p) });
  }
  const ds = flattenSteps(draft?.steps || [], lang, names);
  const ps = flattenSteps(published?.steps || [], lang, names);
  const byKey = new Map(ps.map((r) => [r.key, r]));
  const keys = [...ds.map((r) => r.key), ...ps.filter((r) => !ds.some((d) => d.key === r.key)).map((r) => r.key)];
  const dMap = new Map(ds.map((r) => [r.key, r]));
  for (const key of keys) {
    const d = dMap.get(key);
    const p = byKey.get(key);
    rows.push({
      key: `step-${key}`,
      label: tr(lang, 'admin.flow.stepN', { n: key }),
      depth: (d || p).depth,
      draft: d ? d.text : null,
      published: published ? (p ? p.text : null) : null,
      change: changeOf(d ? d.text : null, published ? (p ? p.text : null) : null),
    });
  }
  return rows;
}

function changeOf(draft, published) {
  if (published === null || published === undefined) return draft === null ? 'same' : 'added';
  if (draft === null || draft === undefined) return 'removed';
  return draft === published ? 'same' : 'changed';
}

// ---- request bodies --------------------------------------------------------------------------

/** The flow editor's form as the PUT body (the draft; `enabled` only when given). */
export function flowBody(form, enabled) {
  const body = {
    name: form.name ?? '',
    description: form.description ?? '',
    number: form.number ?? '',
    steps: apiSteps(form.steps),
  };
  if (typeof enabled === 'boolean') body.enabled = enabled;
  return body;
}

/** What a draft would save, as one comparable string (editor keys left out). */
export function draftKey(form) {
  return form ? JSON.stringify(flowBody(form)) : '';
}

/** Whether the editor holds changes that are not saved: `saved` is draftKey() of the draft as last
 *  loaded or saved (null before it is loaded). */
export function isUnsaved(form, saved) {
  return Boolean(form) && saved !== null && saved !== undefined && draftKey(form) !== saved;
}

/** The live switch: PUT the stored draft as it is, with the new `enabled` (the API saves both). */
export function switchBody(rec, enabled) {
  const d = rec.draft || {};
  return { name: d.name, description: d.description ?? '', number: d.number, steps: d.steps, enabled };
}

const USER_FIELDS = ['name', 'email', 'phone', 'role', 'reminders'];

/** `PUT .../users/{user}` body: the user's own fields as GET gave them, with new telephony settings. */
export function userPutBody(user, telephony) {
  const body = {};
  for (const key of USER_FIELDS) {
    if (user?.[key] !== undefined && user[key] !== null) body[key] = user[key];
  }
  body.telephony = {
    enabled: Boolean(telephony.enabled),
    outbound: Boolean(telephony.outbound),
    record_outbound: Boolean(telephony.record_outbound),
    caller_id: telephony.caller_id || null,
  };
  return body;
}

/** A user's telephony settings, with the API's defaults for a user who has none yet. */
export function telephonyOf(user) {
  const t = user?.telephony || {};
  return {
    enabled: Boolean(t.enabled),
    outbound: Boolean(t.outbound),
    record_outbound: Boolean(t.record_outbound),
    caller_id: t.caller_id || '',
  };
}

/** The flows that keep a number busy: published and switched on, answering on `number`. */
export function flowsOnNumber(flows, number) {
  return (flows || []).filter((f) => f.enabled && f.published && f.published.number === number);
}

/** `?country=&type=&contains=` for the available-numbers search. */
export function availableQuery({ country, type, contains }) {
  const q = new URLSearchParams();
  const c = String(country || '').trim().toUpperCase();
  if (c) q.set('country', c);
  q.set('type', NUMBER_TYPES.includes(type) ? type : 'local');
  const s = String(contains || '').trim();
  if (s) q.set('contains', s);
  return `?${q}`;
}

/** A new record id from a name (ASCII letters, digits, '-'), else `prefix-<random>`. */
export function idFrom(name, prefix, random = Math.random) {
  const slug = String(name || '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug || `${prefix}-${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
}
