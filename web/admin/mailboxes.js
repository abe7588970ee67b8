// Mailboxes: the org's IMAP mailboxes with their listener's state, last error and last UID
// (GET /api/v1/orgs/{org}/mailboxes; passwords are never sent to the page).
import { html } from '../ui.js';
import { ErrorNote, Loading, TableScroll, ViewFrame, orgPath, useLoad } from './common.js';
import { formatInZone, mailboxTone, tr } from './logic.js';

export function MailboxesView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const tz = me.timezone || 'UTC';
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/mailboxes')), [me.org]);
  const boxes = data?.mailboxes || [];
  const when = (iso) => (iso ? formatInZone(Date.parse(iso), tz, lang) : '');
  const reloadButton = html`<button type="button" class="text-button" id="mailboxes-reload" onClick=${reload}>${t('admin.reload')}</button>`;
  return html`<${ViewFrame} id="mailboxes" title=${t('admin.mailboxes.title')} actions=${reloadButton}>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && !boxes.length && html`<p class="admin-muted">${t('admin.mailboxes.none')}</p>`}
    ${boxes.length > 0 && html`<${TableScroll} label=${t('admin.mailboxes.caption')}>
      <table class="admin-table" id="mailboxes-table">
        <caption>${t('admin.mailboxes.caption')}</caption>
        <thead><tr>
          <th scope="col">${t('admin.mailboxes.mailbox')}</th><th scope="col">${t('admin.mailboxes.owner')}</th>
          <th scope="col">${t('admin.mailboxes.mode')}</th><th scope="col">${t('admin.mailboxes.state')}</th>
          <th scope="col" class="num">${t('admin.mailboxes.lastUid')}</th><th scope="col">${t('admin.mailboxes.lastError')}</th>
        </tr></thead>
        <tbody>${boxes.map((b) => html`<tr key=${b.id} data-mailbox=${b.id} data-state=${b.state}>
          <th scope="row"><span class="admin-mono">${b.username}</span>
            <span class="admin-muted admin-small">${b.host}:${b.port} · ${b.folder}</span></th>
          <td>${b.user}</td>
          <td>${t(`admin.mailboxes.mode.${b.mode}`)}</td>
          <td><span class=${`admin-chip tone-${mailboxTone(b.state)}`} data-state=${b.state}>${t(`admin.mailboxes.state.${b.state}`)}</span>
            ${b.state_since && html`<span class="admin-muted admin-small">${t('admin.mailboxes.since', { when: when(b.state_since) })}</span>`}</td>
          <td class="num">${b.last_uid ?? '—'}</td>
          <td>${b.last_error
            ? html`<span class="admin-small" lang="en">${b.last_error}</span>
                <span class="admin-muted admin-small">${when(b.last_error_at)}</span>`
            : '—'}</td>
        </tr>`)}</tbody>
      </table>
    <//>`}
  <//>`;
}
