// Redis stream ids: "<ms>-<seq>". Compare numerically by (ms, seq), never as
// strings ("9-0" < "10-0"). Pure module: no DOM, no globals.

const ID_RE = /^(\d+)(?:-(\d+))?$/;

/** Parse "<ms>-<seq>" (or "<ms>", meaning seq 0) into [BigInt ms, BigInt seq]; null if invalid. */
export function parseId(id) {
  if (id === null || id === undefined) return null;
  const m = ID_RE.exec(String(id).trim());
  if (!m) return null;
  return [BigInt(m[1]), BigInt(m[2] ?? '0')];
}

export function isValidId(id) {
  return parseId(id) !== null;
}

/** -1 / 0 / 1. Invalid ids sort before every valid id (and equal to each other). */
export function compareIds(a, b) {
  const pa = parseId(a);
  const pb = parseId(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  if (pa[0] !== pb[0]) return pa[0] < pb[0] ? -1 : 1;
  if (pa[1] !== pb[1]) return pa[1] < pb[1] ? -1 : 1;
  return 0;
}

/** The larger of two ids; null/undefined/invalid arguments are ignored. */
export function maxId(a, b) {
  const va = isValidId(a);
  const vb = isValidId(b);
  if (!va) return vb ? String(b) : null;
  if (!vb) return String(a);
  return compareIds(a, b) >= 0 ? String(a) : String(b);
}

/** Milliseconds part of an id as a Number (useful as a fallback timestamp), or NaN. */
export function idTime(id) {
  const p = parseId(id);
  return p ? Number(p[0]) : NaN;
}
