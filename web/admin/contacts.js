// Contacts: the org's contacts, paged, with search (?q=), and the bulk import (paste JSON or CSV,
// or pick a file: sent as is, BOM and all) with the API's answer per row.
import { html, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, Pager, ViewFrame, orgPath, rawRequest, useAction, useLoad, usePager } from './common.js';
import { errorMessage, tr } from './logic.js';
import { contactsQuery, importPayload, importSummary } from './messaging_logic.js';

const PAGE = 25;

/** Phones as the API stores them ({number, type}) or bare strings. */
function phoneText(p, t) {
  if (typeof p === 'string') return p;
  return p?.type ? `${p.number} (${t(`admin.contacts.phoneType.${p.type}`)})` : p?.number ?? '';
}

export function ContactsTable({ lang, contacts, id, caption }) {
  const t = (k, v) => tr(lang, k, v);
  return html`<${DataTable} id=${id} caption=${caption}
    head=${[t('admin.contacts.name'), t('admin.contacts.company'), t('admin.contacts.kind'),
      t('admin.contacts.emails'), t('admin.contacts.phones'), t('admin.contacts.owner'),
      t('admin.contacts.marketing')]}>
    ${contacts.map((c) => html`<tr key=${c.id} data-contact=${c.id}>
        <th scope="row">${c.name || c.id}<span class="admin-muted admin-small admin-block-line admin-mono">${c.id}</span></th>
        <td>${c.company || ''}</td>
        <td>${c.kind ? t(`admin.contacts.kind.${c.kind}`) : ''}</td>
        <td>${(c.emails || []).join(', ')}</td>
        <td>${(c.phones || []).map((p) => phoneText(p, t)).join(', ')}</td>
        <td>${c.owner || ''}</td>
        <td>${c.marketing ? t('admin.msg.yes') : t('admin.msg.no')}</td>
      </tr>`)}<//>`;
}

function ContactList({ api, me, lang, version }) {
  const t = (k, v) => tr(lang, k, v);
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const pager = usePager();
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/contacts${contactsQuery(q, pager.cursor, PAGE)}`)),
    [me.org, q, pager.cursor, version],
  );
  const contacts = data?.contacts || [];
  const search = (ev) => {
    ev.preventDefault();
    pager.reset();
    setQ(text);
  };
  return html`<div class="admin-block">
    <form class="admin-filters" role="search" id="contacts-search" onSubmit=${search}>
      <div class="admin-field">
        <label for="contacts-q">${t('admin.contacts.search')}</label>
        <input id="contacts-q" type="search" value=${text} autocomplete="off"
          onInput=${(e) => setText(e.currentTarget.value)} />
      </div>
      <div class="admin-actions"><button type="submit" class="primary-button">${t('admin.contacts.searchButton')}</button></div>
    </form>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="contacts-error" />
    ${data && !contacts.length && html`<p class="admin-muted" id="contacts-none">${
      data.cursor ? t('admin.contacts.noneHere') : t('admin.contacts.none')}</p>`}
    ${contacts.length > 0 && html`<${ContactsTable} lang=${lang} contacts=${contacts} id="contacts-table"
      caption=${t('admin.contacts.caption')} />`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id="contacts-pager" />
  </div>`;
}

function ImportResults({ lang, answer }) {
  const t = (k, v) => tr(lang, k, v);
  const s = importSummary(answer);
  return html`<div class="admin-block" id="import-results">
    <p role="status" class="admin-ok" id="import-counts">${t('admin.contacts.importCounts', s)}</p>
    <${DataTable} id="import-table" caption=${t('admin.contacts.importCaption')}
      head=${[[t('admin.contacts.row'), 'num'], 'ID', t('admin.contacts.result'), t('admin.contacts.reason')]}>
      ${s.rows.map((r) => html`<tr key=${r.row} data-row=${r.row} data-status=${r.status}>
          <td class="num">${r.row}</td>
          <td class="admin-mono">${r.id}</td>
          <td><span class=${`admin-chip tone-${r.status === 'error' ? 'bad' : 'ok'}`}>${t(`admin.contacts.status.${r.status}`)}</span></td>
          <td>${r.status === 'error' && html`<span>${errorMessage({ code: r.reason }, lang)}</span>
            ${r.detail && html` <span class="admin-muted admin-small" lang="en">${r.detail}</span>`}`}</td>
        </tr>`)}<//>
  </div>`;
}

function ImportForm({ api, me, lang, onImported }) {
  const t = (k, v) => tr(lang, k, v);
  const [text, setText] = useState('');
  const [file, setFile] = useState(null);
  const [answer, setAnswer] = useState(null);
  const act = useAction();

  async function submit(ev) {
    ev.preventDefault();
    const out = await act.run(async () => {
      const path = orgPath(me, '/contacts:import');
      if (file) {
        // The file as it is (a spreadsheet's BOM included): the API reads UTF-8 with or without one.
        const json = /\.json$/i.test(file.name) || file.type === 'application/json';
        return rawRequest(api, 'POST', path, file, json ? 'application/json' : 'text/csv');
      }
      const payload = importPayload(text);
      if (payload.type === 'invalid') throw Object.assign(new Error('json'), { code: 'invalid_json', status: 400 });
      if (payload.type === 'json') return api.request('POST', path, payload.body);
      return rawRequest(api, 'POST', path, payload.text, 'text/csv; charset=utf-8');
    });
    if (out) {
      setAnswer(out);
      onImported();
    }
  }

  return html`<form class="admin-form admin-card" id="import-form" onSubmit=${submit} novalidate
      aria-labelledby="import-title">
    <h3 id="import-title">${t('admin.contacts.import')}</h3>
    <p class="admin-hint" id="import-hint">${t('admin.contacts.importHint')}</p>
    <div class="admin-field">
      <label for="import-file">${t('admin.contacts.importFile')}</label>
      <input id="import-file" type="file" accept=".csv,.json,text/csv,application/json"
        onChange=${(e) => setFile(e.currentTarget.files?.[0] || null)} />
    </div>
    <div class="admin-field">
      <label for="import-text">${t('admin.contacts.importText')}</label>
      <textarea id="import-text" rows="5" value=${text} disabled=${Boolean(file)} aria-describedby="import-hint"
        placeholder="id,name,company,email,phone,marketing" onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    </div>
    <${ErrorNote} error=${act.error} lang=${lang} id="import-error" />
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy || (!file && !text.trim())}>${t('admin.contacts.importButton')}</button>
    </div>
    ${answer && html`<${ImportResults} lang=${lang} answer=${answer} />`}
  </form>`;
}

export function ContactsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [version, setVersion] = useState(0);
  return html`<${ViewFrame} id="contacts" title=${t('admin.contacts.title')}>
    <${ContactList} api=${api} me=${me} lang=${lang} version=${version} />
    <${ImportForm} api=${api} me=${me} lang=${lang} onImported=${() => setVersion(version + 1)} />
  <//>`;
}
