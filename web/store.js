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
