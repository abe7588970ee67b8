// Sender registration (India's DLT): the org's sender and profile as the operator registered them,
// and what is still missing. Read-only: `PUT /api/v1/orgs/{org}` is the operator's, so the admin
// sees what to send the operator.
import { html } from '../ui.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, useLoad } from './common.js';
import { tr } from './logic.js';
import { senderRows } from './messaging_logic.js';

export function SenderView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const india = me.country === 'IN';
  const { data, error, loading } = useLoad(
    () => (india ? api.request('GET', orgPath(me)) : Promise.resolve(null)),
    [me.org, india],
  );
  if (!india) {
    return html`<${ViewFrame} id="sender" title=${t('admin.sender.title')}>
      <p class="admin-muted" id="sender-not-in">${t('admin.sender.onlyIn')}</p>
    <//>`;
  }
  const rows = data ? senderRows(data) : [];
  const missing = data?.sender_registration?.missing || rows.filter((r) => r.missing).map((r) => `${r.group}.${r.field}`);
  return html`<${ViewFrame} id="sender" title=${t('admin.sender.title')}>
    <p class="admin-hint" id="sender-hint">${t('admin.sender.hint')}</p>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && html`<p class=${missing.length ? 'admin-error' : 'admin-ok'} id="sender-summary" role="status">
      ${missing.length ? t('admin.sender.missingCount', { n: missing.length }) : t('admin.sender.complete')}</p>
    ${missing.length > 0 && html`<ul id="sender-missing" aria-label=${t('admin.sender.missing')}>
      ${missing.map((m) => html`<li data-missing=${m}>${t(`admin.sender.field.${m}`)}</li>`)}</ul>`}
    <${DataTable} id="sender-table" caption=${t('admin.sender.caption')}
      head=${[t('admin.sender.item'), t('admin.sender.value')]}>
      ${rows.map((r) => html`<tr data-field=${`${r.group}.${r.field}`} data-missing=${r.missing ? 'true' : 'false'}>
          <th scope="row">${t(`admin.sender.field.${r.group}.${r.field}`)}</th>
          <td>${r.missing ? html`<span class="admin-chip tone-bad">${t('admin.sender.notSet')}</span>` : html`<span class="admin-mono">${String(r.value)}</span>`}</td>
        </tr>`)}<//>`}
  <//>`;
}
