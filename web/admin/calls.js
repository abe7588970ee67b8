// Call log: filters (dates in the org's zone, direction, user, status), the table, and the CSV
// download (fetched with the bearer token → Blob → object URL → a download link).
import { html, useEffect, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, rawFetch, useAction, useLoad } from './common.js';
import { callsFilename, callsQuery, dispositionFilename, filterCalls, formatDuration, formatInZone, tr } from './logic.js';

const STATUSES = ['completed', 'no-answer', 'busy', 'canceled', 'failed', 'in-progress', 'ringing', 'queued', 'initiated'];
const EMPTY = { from: '', to: '', direction: '', user: '', status: '' };

async function downloadCsv(api, me, filters) {
  const res = await rawFetch(api, 'GET', orgPath(me, `/calls${callsQuery(filters, 'csv')}`), { accept: 'text/csv' });
  return { blob: await res.blob(), name: dispositionFilename(res.headers.get('content-disposition')) };
}

function CsvDownload({ api, me, lang, filters }) {
  const t = (k, v) => tr(lang, k, v);
  const [link, setLink] = useState(null);
  const act = useAction();
  useEffect(() => () => link && URL.revokeObjectURL(link.url), [link]);

  async function go() {
    const got = await act.run(() => downloadCsv(api, me, filters));
    if (!got) return;
    const name = got.name || callsFilename(me.org, filters.from, filters.to);
    const url = URL.createObjectURL(got.blob);
    setLink({ url, name });
    // Start the download at once; the link stays for a second try (and for keyboard users).
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  }

  return html`<div class="admin-download">
    <button type="button" class="primary-button" id="calls-csv" onClick=${go} disabled=${act.busy}>${t('admin.calls.csv')}</button>
    ${link && html`<p role="status" class="admin-ok">${t('admin.calls.csvReady', { name: link.name })}
      <a href=${link.url} download=${link.name} id="calls-csv-link">${t('admin.calls.csvSave', { name: link.name })}</a></p>`}
    <${ErrorNote} error=${act.error} lang=${lang} id="calls-csv-error" />
  </div>`;
}

export function CallsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const tz = me.timezone || 'UTC';
  const [draft, setDraft] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const users = useLoad(() => api.request('GET', orgPath(me, '/users?limit=1000')), [me.org]);
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/calls${callsQuery(filters)}`)),
    [me.org, filters.from, filters.to, filters.direction, filters.user, filters.status],
  );
  // Older pages (the API pages by cursor), appended below the first one.
  const [more, setMore] = useState({ rows: [], cursor: undefined });
  const paging = useAction();
  useEffect(() => { setMore({ rows: [], cursor: undefined }); paging.setError(null); }, [data]);
  const cursor = more.cursor === undefined ? data?.cursor : more.cursor;
  async function loadMore() {
    const page = await paging.run(() => api.request('GET', orgPath(me, `/calls${callsQuery(filters, 'json', cursor)}`)));
    if (page) setMore({ rows: [...more.rows, ...(page.calls || [])], cursor: page.cursor ?? null });
  }
  const rows = filterCalls([...(data?.calls || []), ...more.rows], filters, tz);
  const names = Object.fromEntries((users.data?.users || []).map((u) => [u.id, u.name || u.id]));
  const set = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const select = (key, options) => html`<div class="admin-field">
    <label for=${`calls-${key}`}>${t(`admin.calls.${key}`)}</label>
    <select id=${`calls-${key}`} value=${draft[key]} onChange=${set(key)}>
      <option value="">${t('admin.calls.any')}</option>
      ${options.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
    </select>
  </div>`;
  return html`<${ViewFrame} id="calls" title=${t('admin.calls.title')}>
    <form class="admin-filters" id="calls-filters" novalidate onSubmit=${(e) => { e.preventDefault(); setFilters({ ...draft }); }}>
      <div class="admin-field">
        <label for="calls-from">${t('admin.calls.from')}</label>
        <input id="calls-from" type="date" value=${draft.from} onInput=${set('from')} />
      </div>
      <div class="admin-field">
        <label for="calls-to">${t('admin.calls.to')}</label>
        <input id="calls-to" type="date" value=${draft.to} onInput=${set('to')} />
      </div>
      ${select('direction', [['inbound', t('admin.calls.inbound')], ['outbound', t('admin.calls.outbound')]])}
      ${select('user', Object.entries(names))}
      ${select('status', STATUSES.map((s) => [s, t(`admin.calls.status.${s}`)]))}
      <button type="submit" class="primary-button">${t('admin.calls.apply')}</button>
    </form>
    <${CsvDownload} api=${api} me=${me} lang=${lang} filters=${filters} />
    <${ErrorNote} error=${error} lang=${lang} id="calls-error" />
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    ${data && html`<p class="admin-muted" role="status">${t('admin.calls.count', { n: rows.length })}</p>`}
    ${rows.length > 0 && html`<${DataTable} id="calls-table" caption=${t('admin.calls.caption')}
      head=${[t('admin.calls.started'), t('admin.calls.direction'), t('admin.calls.caller'), t('admin.calls.callee'),
        t('admin.calls.contact'), t('admin.calls.user'), t('admin.calls.status'), [t('admin.calls.duration'), 'num'],
        t('admin.calls.missed'), t('admin.calls.flow'), t('admin.calls.recording')]}>
      ${rows.map((c) => html`<tr key=${c.sid} data-sid=${c.sid} class=${c.missed ? 'is-missed' : ''}>
          <td>${formatInZone(Date.parse(c.started_at), tz, lang)}</td>
          <td>${c.direction ? t(`admin.calls.${c.direction}`) : ''}</td>
          <td>${c.from}</td><td>${c.to}</td>
          <td>${c.contact_name || c.contact || ''}</td>
          <td>${c.user ? names[c.user] || c.user : ''}</td>
          <td>${c.status ? t(`admin.calls.status.${c.status}`) : ''}</td>
          <td class="num">${formatDuration(c.duration)}</td>
          <td data-missed=${String(Boolean(c.missed))}>${c.missed ? t('admin.calls.missedYes') : ''}</td>
          <td>${c.flow || ''}</td>
          <td>${c.recording_url ? html`<a href=${c.recording_url} rel="noopener noreferrer" target="_blank">${t('admin.calls.recording')}</a>` : ''}</td>
        </tr>`)}<//>`}
    ${cursor && html`<button type="button" class="text-button" id="calls-more" disabled=${paging.busy} onClick=${loadMore}>
      ${t('admin.calls.more')}</button>`}
    <${ErrorNote} error=${paging.error} lang=${lang} id="calls-more-error" />
  <//>`;
}
