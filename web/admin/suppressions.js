// Suppressions: addresses that hard-bounced (or unsubscribed without a contact), paged; removing
// one (after a confirm) lets mail go to it again.
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, Pager, ViewFrame, orgPath, useLoad, usePager } from './common.js';
import { formatInZone, tr } from './logic.js';

function Row({ api, me, lang, s, onRemoved }) {
  const t = (k, v) => tr(lang, k, v);
  const at = Date.parse(s.at);
  return html`<tr data-address=${s.address}>
    <th scope="row" class="admin-mono">${s.address}</th>
    <td>${s.reason}</td>
    <td>${Number.isFinite(at) ? formatInZone(at, me.timezone || 'UTC', lang) : ''}</td>
    <td class="admin-row-actions">
      <${ConfirmAction} lang=${lang} action="remove" label=${t('admin.suppressions.remove')}
        errId=${`suppression-${s.address.replace(/[^A-Za-z0-9]/g, '-')}-error`} question=${t('admin.suppressions.removeQ', { address: s.address })}
        request=${() => api.request('DELETE', orgPath(me, `/suppressions/${encodeURIComponent(s.address)}`))}
        onDone=${() => onRemoved(s.address)} />
    </td>
  </tr>`;
}

export function SuppressionsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const pager = usePager();
  const [removed, setRemoved] = useState([]);
  const cursor = pager.cursor ? `&cursor=${encodeURIComponent(pager.cursor)}` : '';
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/suppressions?limit=50${cursor}`)),
    [me.org, pager.cursor],
  );
  const list = (data?.suppressions || []).filter((s) => !removed.includes(s.address));
  return html`<${ViewFrame} id="suppressions" title=${t('admin.suppressions.title')}>
    <p class="admin-hint">${t('admin.suppressions.hint')}</p>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    <p role="status" class="admin-ok" id="suppressions-status">${removed.length ? t('admin.suppressions.removed', { address: removed[removed.length - 1] }) : ''}</p>
    ${data && !list.length && html`<p class="admin-muted" id="suppressions-none">${t('admin.suppressions.none')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="suppressions-table" caption=${t('admin.suppressions.caption')}
      head=${[t('admin.suppressions.address'), t('admin.suppressions.reason'), t('admin.suppressions.at'),
        t('admin.templates.actions')]}>
      ${list.map((s) => html`<${Row} key=${s.address} api=${api} me=${me} lang=${lang} s=${s}
          onRemoved=${(a) => setRemoved([...removed, a])} />`)}<//>`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id="suppressions-pager" />
  <//>`;
}
