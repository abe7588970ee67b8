// Suppressions: addresses that hard-bounced (or unsubscribed without a contact), paged; removing
// one (after a confirm) lets mail go to it again.
import { html, useState } from '../ui.js';
import { ConfirmButton, ErrorNote, Loading, Pager, TableScroll, ViewFrame, orgPath, useAction, useLoad, usePager } from './common.js';
import { formatInZone, tr } from './logic.js';

function Row({ api, me, lang, s, onRemoved }) {
  const t = (k, v) => tr(lang, k, v);
  const act = useAction();
  const errId = `suppression-${s.address.replace(/[^A-Za-z0-9]/g, '-')}-error`;
  const at = Date.parse(s.at);
  return html`<tr data-address=${s.address}>
    <th scope="row" class="admin-mono">${s.address}</th>
    <td>${s.reason}</td>
    <td>${Number.isFinite(at) ? formatInZone(at, me.timezone || 'UTC', lang) : ''}</td>
    <td class="admin-row-actions">
      <${ConfirmButton} lang=${lang} action="remove" label=${t('admin.suppressions.remove')} busy=${act.busy}
        describedBy=${act.error ? errId : undefined} question=${t('admin.suppressions.removeQ', { address: s.address })}
        onConfirm=${async () => {
          const out = await act.run(() => api.request('DELETE', orgPath(me, `/suppressions/${encodeURIComponent(s.address)}`)));
          if (out !== undefined) onRemoved(s.address);
        }} />
      <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
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
    ${list.length > 0 && html`<${TableScroll} label=${t('admin.suppressions.caption')}>
      <table class="admin-table" id="suppressions-table">
        <caption>${t('admin.suppressions.caption')}</caption>
        <thead><tr><th scope="col">${t('admin.suppressions.address')}</th><th scope="col">${t('admin.suppressions.reason')}</th>
          <th scope="col">${t('admin.suppressions.at')}</th><th scope="col">${t('admin.templates.actions')}</th></tr></thead>
        <tbody>${list.map((s) => html`<${Row} key=${s.address} api=${api} me=${me} lang=${lang} s=${s}
          onRemoved=${(a) => setRemoved([...removed, a])} />`)}</tbody>
      </table>
    <//>`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id="suppressions-pager" />
  <//>`;
}
