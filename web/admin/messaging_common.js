// Shared pieces of the messaging admin views: an action with busy/error state, a raw (non-JSON)
// request, a confirm button, a cursor pager, the template and segment pickers' data.
import { ApiError } from '../api.js';
import { html, useState } from '../ui.js';
import { bearerToken, orgPath } from './common.js';
import { tr } from './logic.js';

/** Run async actions one at a time: {busy, error, ok, run(fn, okText?), setError, setOk}. The
 *  error stays where the admin acted (the caller renders it beside the control). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [ok, setOk] = useState('');
  async function run(fn, okText = '') {
    setBusy(true);
    setOk('');
    try {
      const out = await fn();
      setError(null);
      setOk(typeof okText === 'function' ? okText(out) : okText);
      return out;
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, ok, run, setError, setOk };
}

/** A request with a body that is not JSON (a CSV text or a picked file), JSON answer; throws ApiError. */
export async function rawRequest(api, method, path, body, contentType) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${bearerToken(api)}`, Accept: 'application/json', 'Content-Type': contentType },
      body,
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data?.error || `http_${res.status}`, data?.detail || '');
  return data ?? {};
}

/** A button that asks once more before acting ("Remove" → "Remove x? [Yes] [No]"). */
export function ConfirmButton({ lang, label, question, onConfirm, busy, id, describedBy, action = 'delete' }) {
  const t = (k, v) => tr(lang, k, v);
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class="small-button" id=${id} data-action=${action} disabled=${busy} aria-describedby=${describedBy}
      onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="admin-confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class="small-button is-danger" data-confirm="yes" disabled=${busy}
      ref=${(el) => el && !el.dataset.focused && ((el.dataset.focused = '1'), el.focus())}
      onClick=${async () => { await onConfirm(); setAsking(false); }}>${t('admin.msg.yes')}</button>
    <button type="button" class="small-button" data-confirm="no" onClick=${() => setAsking(false)}>${t('admin.msg.no')}</button>
  </span>`;
}

/** "Previous / Next" over an API cursor; `stack` holds the cursors of the pages before. */
export function usePager() {
  const [stack, setStack] = useState([]);
  const [cursor, setCursor] = useState(null);
  return {
    cursor,
    page: stack.length + 1,
    next: (c) => { setStack([...stack, cursor]); setCursor(c); },
    prev: () => { setCursor(stack[stack.length - 1] ?? null); setStack(stack.slice(0, -1)); },
    reset: () => { setStack([]); setCursor(null); },
    hasPrev: stack.length > 0,
  };
}

export function Pager({ lang, pager, nextCursor, id }) {
  const t = (k, v) => tr(lang, k, v);
  if (!pager.hasPrev && !nextCursor) return null;
  return html`<nav class="admin-actions admin-pager" aria-label=${t('admin.msg.pages')} id=${id}>
    <button type="button" class="small-button" data-page="prev" disabled=${!pager.hasPrev} onClick=${pager.prev}>${t('admin.msg.prev')}</button>
    <span class="admin-muted">${t('admin.msg.page', { n: pager.page })}</span>
    <button type="button" class="small-button" data-page="next" disabled=${!nextCursor}
      onClick=${() => pager.next(nextCursor)}>${t('admin.msg.next')}</button>
  </nav>`;
}

/** The org's templates (for pickers). */
export async function loadTemplates(api, me) {
  const { templates } = await api.request('GET', orgPath(me, '/templates'));
  return templates || [];
}

/** The org's segments (for pickers). */
export async function loadSegments(api, me) {
  const { segments } = await api.request('GET', orgPath(me, '/segments'));
  return segments || [];
}
