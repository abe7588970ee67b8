// Pure list operations on signals. The list is kept ASCENDING by stream id
// (the view reverses it to show newest first). No DOM, no globals; every
// function returns a new array and never mutates its input.

import { compareIds, isValidId } from './ids.js';

export const MAX_SIGNALS = 500;

/** Index of the first element whose id is >= id (binary search). */
function lowerBound(list, id) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(list[mid].id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function findSignal(list, id) {
  const i = lowerBound(list, id);
  return i < list.length && compareIds(list[i].id, id) === 0 ? list[i] : null;
}

/**
 * Merge one signal into the list.
 * - id already present: an UPDATE of a grouped signal; replaced in place
 *   (order stays by id, it does not move to the top).
 * - new id: inserted at its sorted position.
 * Returns { list, change: 'insert' | 'update' | 'none' }.
 */
export function mergeSignal(list, signal) {
  if (!signal || !isValidId(signal.id)) return { list, change: 'none' };
  const s = { ...signal, id: String(signal.id) };
  const i = lowerBound(list, s.id);
  const next = list.slice();
  if (i < list.length && compareIds(list[i].id, s.id) === 0) {
    next[i] = s;
    return { list: next, change: 'update' };
  }
  next.splice(i, 0, s);
  return { list: next, change: 'insert' };
}

/** Sort + de-duplicate an arbitrary array of signals (last occurrence of an id wins). */
export function normalizeSignals(signals) {
  let list = [];
  for (const s of Array.isArray(signals) ? signals : []) list = mergeSignal(list, s).list;
  return list;
}

/** Drop the oldest entries so at most `max` remain. */
export function trimOldest(list, max = MAX_SIGNALS) {
  return list.length > max ? list.slice(list.length - max) : list;
}

export function newestId(list) {
  return list.length ? list[list.length - 1].id : null;
}

/**
 * Replace the list with a fresh REST page (after a `gap`), keeping signals that
 * arrived over the socket while the page was in flight (ids newer than the page).
 */
export function replaceWithPage(current, page) {
  const fresh = normalizeSignals(page);
  const top = newestId(fresh);
  let list = fresh;
  for (const s of current) {
    if (top === null || compareIds(s.id, top) > 0) list = mergeSignal(list, s).list;
  }
  return list;
}

export function markRead(list, ids) {
  const set = new Set((ids || []).map(String));
  return list.map((s) => (set.has(s.id) && !s.read ? { ...s, read: true } : s));
}

export function markReadUpTo(list, upTo) {
  return list.map((s) => (!s.read && compareIds(s.id, upTo) <= 0 ? { ...s, read: true } : s));
}

export function setReadFlag(list, id, read) {
  return list.map((s) => (s.id === String(id) && s.read !== read ? { ...s, read } : s));
}

/**
 * Signals to display, NEWEST FIRST, filtered by type ('all' = no filter) and
 * unread flag. `keep` (Set of ids) stays visible in unread-only mode even once
 * read, so an item does not vanish under the user's pointer when clicked.
 */
export function visibleSignals(list, { type = 'all', unreadOnly = false, keep } = {}) {
  const out = [];
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i];
    if (type !== 'all' && s.type !== type) continue;
    if (unreadOnly && s.read && !keep?.has(s.id)) continue;
    out.push(s);
  }
  return out;
}

// ---- the feed's query and state (server-side filters; the store only mirrors them) --------

export const VIEWS = ['inbox', 'archived', 'snoozed'];

/** The default query: the inbox, every type, read and unread, every contact. `contactName` only
 *  labels the contact filter's chip (the server is asked by `contact`, the id). */
export function defaultQuery() {
  return { view: 'inbox', types: [], unreadOnly: false, contact: null, contactName: null };
}

/** The query patch that shows only the signal's contact ("Show only this contact"), combined with
 *  the other filters; null when the signal has no contact. */
export function contactFilter(signal) {
  const id = signal?.contact?.id;
  if (id === undefined || id === null || id === '') return null;
  const name = String(signal.contact.name || '').trim();
  return { contact: String(id), contactName: name || String(id) };
}

/** The patch that removes the contact filter (the chip's ×). */
export function noContactFilter() {
  return { contact: null, contactName: null };
}

/** Query string for GET /api/v1/me/signals: the filters go to the server, never hidden locally. */
export function feedParams(query, { before, after, limit = 50 } = {}) {
  const q = new URLSearchParams();
  if (before) q.set('before', before);
  if (after) q.set('after', after);
  q.set('limit', String(limit));
  if (query?.view && query.view !== 'inbox') q.set('view', query.view);
  if (query?.types?.length) q.set('type', [...query.types].sort().join(','));
  if (query?.unreadOnly) q.set('unread', 'true');
  if (query?.contact) q.set('contact', query.contact);
  return q.toString();
}

function isSnoozed(s, now) {
  if (!s.snoozed_until) return false;
  const ms = Date.parse(s.snoozed_until);
  return Number.isFinite(ms) ? ms > now : false;
}

/** Whether a signal belongs in the list the query describes (for live frames and state changes). */
export function matchesQuery(s, query, now = Date.now()) {
  if (!s) return false;
  const view = query?.view || 'inbox';
  if (view === 'inbox' && (s.archived || isSnoozed(s, now))) return false;
  if (view === 'archived' && !s.archived) return false;
  if (view === 'snoozed' && (s.archived || !isSnoozed(s, now))) return false;
  if (query?.types?.length && !query.types.includes(s.type)) return false;
  if (query?.unreadOnly && s.read) return false;
  if (query?.contact && String(s.contact?.id ?? '') !== String(query.contact)) return false;
  return true;
}

/**
 * The query patch that brings `signal` (just arrived: in the inbox, unread) into view, dropping
 * only the filters that hide it — the view goes back to the inbox, a type filter without its
 * type and a contact filter on another contact go; filters that already show it stay. Null when
 * the query shows it already. (A click on its desktop notification.)
 */
export function revealPatch(query, signal, now = Date.now()) {
  if (!signal || matchesQuery(signal, query, now)) return null;
  const patch = {};
  if ((query?.view || 'inbox') !== 'inbox') patch.view = 'inbox';
  if (query?.types?.length && !query.types.includes(signal.type)) patch.types = [];
  if (query?.unreadOnly && signal.read) patch.unreadOnly = false;
  if (query?.contact && String(signal.contact?.id ?? '') !== String(query.contact)) Object.assign(patch, noContactFilter());
  return patch;
}

export function oldestId(list) {
  return list.length ? list[0].id : null;
}

/** Add an older page (paging back); ids already present are not added twice. → {list, added} */
export function mergeOlder(list, page) {
  let next = list;
  let added = 0;
  for (const s of normalizeSignals(page)) {
    if (findSignal(next, s.id)) continue;
    next = mergeSignal(next, s).list;
    added++;
  }
  return { list: next, added };
}

export function removeIds(list, ids) {
  const set = new Set((ids || []).map(String));
  return set.size ? list.filter((s) => !set.has(s.id)) : list;
}

const STATE_FIELDS = ['read', 'archived', 'snoozed_until', 'acted'];

/**
 * Apply a `state` frame ({ids, read?, archived?, snoozed_until?, acted?}: only the changed fields)
 * or an optimistic change of the same shape. `keep` (Set of ids) stays listed even if it no
 * longer matches the query (an item does not vanish under the pointer when read).
 * → {list, changed: [ids present and changed], removed: [ids that left the view]}
 */
export function applyState(list, frame, query, { now = Date.now(), keep } = {}) {
  const ids = new Set((frame?.ids || []).map(String));
  const fields = STATE_FIELDS.filter((f) => frame && f in frame);
  const changed = [];
  const removed = [];
  const next = [];
  for (const s of list) {
    if (!ids.has(s.id) || !fields.length) {
      next.push(s);
      continue;
    }
    const u = { ...s };
    for (const f of fields) u[f] = frame[f];
    changed.push(s.id);
    if (query && !matchesQuery(u, query, now) && !keep?.has(s.id)) removed.push(s.id);
    else next.push(u);
  }
  return { list: next, changed, removed };
}

/** Mark every signal up to `upTo` (inclusive) by applying `fields`; for "mark all read" etc. */
export function idsUpTo(list, upTo, pred = () => true) {
  return list.filter((s) => compareIds(s.id, upTo) <= 0 && pred(s)).map((s) => s.id);
}

/** Badge text: '' for none, the number up to 99, then '99+'. */
export function badgeText(n) {
  const count = Math.max(0, Math.floor(Number(n) || 0));
  if (!count) return '';
  return count > 99 ? '99+' : String(count);
}
