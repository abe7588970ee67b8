// Shared pieces of the admin views: loading data, inline errors, the view frame, scrollable tables.
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
