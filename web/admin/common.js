// Shared pieces of the admin views: loading data, running an action (busy / error / ok), inline
// errors, the view frame, scrollable tables, confirm steps, a cursor pager, non-JSON requests.
import { ApiError } from '../api.js';
import { html, useEffect, useState } from '../ui.js';
import { errorMessage, tr } from './logic.js';

/** `/api/v1/orgs/<org><rest>` for the signed-in admin's org. */
export function orgPath(me, rest = '') {
  return `/api/v1/orgs/${encodeURIComponent(me.org)}${rest}`;
}

/** Load with `load()` whenever `deps` change: {loading, data, error, reload}. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}

/** Run async actions one at a time: {busy, error, ok, run(fn, okText?, onError?), setError, setOk}.
 *  `run` resolves to what `fn` returned, or `undefined` when it threw; the error stays where the
 *  admin acted (the caller renders it beside the control) until an action succeeds. `okText` is a
 *  text or `(out) => text`; `onError(err)` runs (awaited, still busy) after the error is set. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [ok, setOk] = useState('');
  async function run(fn, okText = '', onError = null) {
    setBusy(true);
    setOk('');
    try {
      const out = await fn();
      setError(null);
      setOk(typeof okText === 'function' ? okText(out) : okText);
      return out;
    } catch (err) {
      setError(err);
      if (onError) await onError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, ok, run, setError, setOk };
}

/** An API error where the admin acted: a sentence in their language, the server's detail after it. */
export function ErrorNote({ error, lang, id, class: cls = '' }) {
  if (!error) return null;
  const detail = error.detail && error.detail !== error.code ? error.detail : '';
  return html`<p class=${`admin-error ${cls}`} role="alert" id=${id} data-code=${error.code || ''}>
    <span>${errorMessage(error, lang)}</span>
    ${detail && html` <span class="admin-error-detail" lang="en">${detail}</span>`}
  </p>`;
}

export function Loading({ lang }) {
  return html`<p class="admin-muted" role="status">${tr(lang, 'admin.loading')}</p>`;
}

/** A view: a labelled region with its heading. */
export function ViewFrame({ id, title, children, actions }) {
  return html`<section class="admin-panel" id=${`admin-${id}`} aria-labelledby=${`admin-${id}-title`}>
    <div class="admin-panel-head">
      <h2 id=${`admin-${id}-title`}>${title}</h2>
      ${actions}
    </div>
    ${children}
  </section>`;
}

/** A table that may scroll sideways on a phone: focusable, so keyboard users can scroll it. */
export function TableScroll({ label, children }) {
  return html`<div class="admin-table-scroll" role="region" aria-label=${label} tabindex="0">${children}</div>`;
}

/** A scrollable table with its caption and column heads; `head`: a label, or [label, class] for a
 *  column with a class (e.g. 'num'); the children are the rows. `label` names the scroll region
 *  (the caption unless given), `extraClass` is added to the table's. */
export function DataTable({ id, caption, head, children, label = caption, extraClass = '' }) {
  return html`<${TableScroll} label=${label}>
    <table class=${extraClass ? `admin-table ${extraClass}` : 'admin-table'} id=${id}>
      <caption>${caption}</caption>
      <thead><tr>${head.map((h) => (Array.isArray(h)
        ? html`<th scope="col" class=${h[1]}>${h[0]}</th>`
        : html`<th scope="col">${h}</th>`))}</tr></thead>
      <tbody>${children}</tbody>
    </table>
  <//>`;
}

/** The bearer token the page signed in with (for downloads that are not JSON). */
export function bearerToken(api) {
  if (typeof api?.getToken === 'function') return api.getToken();
  if (typeof api?.token === 'string') return api.token;
  try {
    return globalThis.localStorage?.getItem('signalgate.token') || '';
  } catch {
    return '';
  }
}

/** A request whose body or answer is not JSON, with the bearer token: the Response when it is ok,
 *  else an ApiError from the JSON error body (if any). */
export async function rawFetch(api, method, path, { body, contentType, accept = 'application/json' } = {}) {
  const headers = { Authorization: `Bearer ${bearerToken(api)}`, Accept: accept };
  if (contentType) headers['Content-Type'] = contentType;
  let res;
  try {
    res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (res.ok) return res;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  throw new ApiError(res.status, data?.error || `http_${res.status}`, data?.detail || '');
}

/** A request with a body that is not JSON (a CSV text or a picked file), JSON answer; throws ApiError. */
export async function rawRequest(api, method, path, body, contentType) {
  const res = await rawFetch(api, method, path, { body, contentType });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return data ?? {};
}

/** Focus an element once, the first time it is rendered (a `ref` callback). */
export function focusOnce(el) {
  if (el && !el.dataset.focused) {
    el.dataset.focused = '1';
    el.focus();
  }
}

/** The question of a confirm step, "Remove x? [Yes] [No]", with the keyboard on Yes. `yes` / `no`:
 *  optional {label, action (data-action), class (Yes: 'is-danger' unless given)}. */
export function ConfirmAsk({ lang, question, busy, onYes, onNo, yes = {}, no = {} }) {
  return html`<span class="admin-confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class=${`small-button ${yes.class || 'is-danger'}`} data-confirm="yes" data-action=${yes.action}
      disabled=${busy} ref=${focusOnce} onClick=${onYes}>${yes.label || tr(lang, 'admin.msg.yes')}</button>
    <button type="button" class="small-button" data-confirm="no" data-action=${no.action}
      onClick=${onNo}>${no.label || tr(lang, 'admin.msg.no')}</button>
  </span>`;
}

/** The foot of an edit form run by `act` (useAction): its error, then Save (submit; `label`) and Cancel. */
export function SaveCancel({ act, lang, errId, label, onCancel }) {
  return html`<${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy}>${label || tr(lang, 'admin.save')}</button>
      <button type="button" class="text-button" onClick=${onCancel}>${tr(lang, 'admin.cancel')}</button>
    </div>`;
}

/** A button that asks once more before acting ("Remove" → "Remove x? [Yes] [No]"). */
export function ConfirmButton({ lang, label, question, onConfirm, busy, id, describedBy, action = 'delete', ariaLabel, yes, no }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class="small-button" id=${id} data-action=${action} disabled=${busy}
      aria-label=${ariaLabel} aria-describedby=${describedBy} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<${ConfirmAsk} lang=${lang} question=${question} busy=${busy} yes=${yes} no=${no}
    onYes=${async () => { await onConfirm(); setAsking(false); }} onNo=${() => setAsking(false)} />`;
}

/** A ConfirmButton that runs `request()` with its own busy / error state, the error beside it
 *  (`errId`); `onDone(out)` once the request succeeded. Other props go to the ConfirmButton. */
export function ConfirmAction({ lang, errId, request, onDone, ...button }) {
  const act = useAction();
  return html`<${ConfirmButton} lang=${lang} busy=${act.busy} describedBy=${act.error ? errId : undefined} ...${button}
      onConfirm=${async () => {
        const out = await act.run(request);
        if (out !== undefined) onDone(out);
      }} />
    <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />`;
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
