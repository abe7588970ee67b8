// Templates: the list with status chips, a create/edit form, and the SMS approval lifecycle
// (submit / approve / reject). The API decides what is allowed; its error shows in the row acted on.
import { html, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { templateActions, tr } from './logic.js';
import { DltPanel, SmsPreview, VersionsPanel, versionChips } from './template_versions.js';

const EMPTY = { id: null, channel: 'sms', name: '', module: '', body: '', subject: '' };

function Chips({ tpl, lang }) {
  return html`<span class="admin-chips">${versionChips(tpl).map(
    (c) => html`<span class=${`admin-chip chip-${c.kind}`} data-status=${c.kind}>${tr(lang, c.key, c.vars)}</span>`,
  )}</span>`;
}

function TemplateForm({ api, me, lang, editing, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  // An approved template's new version (draft or pending) is what an edit continues from.
  const cand = editing && (editing.draft || editing.pending);
  const [form, setForm] = useState(editing ? { ...EMPTY, ...editing, ...(cand ? { body: cand.body, subject: cand.subject ?? editing.subject } : {}) } : EMPTY);
  const act = useAction();
  const isNew = !editing;
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });

  async function save(ev, submit = false) {
    ev.preventDefault();
    const body = { name: form.name, body: form.body };
    if (submit && !isNew) body.submit = true;
    if (isNew) Object.assign(body, { channel: form.channel, module: form.module });
    if (form.channel === 'email') body.subject = form.subject;
    const rec = await act.run(() => (isNew
      ? api.request('POST', orgPath(me, '/templates'), body)
      : api.request('PUT', orgPath(me, `/templates/${encodeURIComponent(editing.id)}`), body)));
    if (rec) onDone(rec);
  }

  const title = isNew ? t('admin.templates.new') : t('admin.templates.editing', { name: editing.name });
  return html`<form class="admin-form admin-card" id="template-form" onSubmit=${save} novalidate
      aria-labelledby="template-form-title">
    <h3 id="template-form-title">${title}</h3>
    <div class="admin-grid">
      <div class="admin-field">
        <label for="tpl-channel">${t('admin.templates.channel')}</label>
        <select id="tpl-channel" value=${form.channel} disabled=${!isNew} onChange=${set('channel')}>
          <option value="sms">${t('admin.templates.channel.sms')}</option>
          <option value="email">${t('admin.templates.channel.email')}</option>
        </select>
      </div>
      <div class="admin-field">
        <label for="tpl-name">${t('admin.templates.name')}</label>
        <input id="tpl-name" value=${form.name} onInput=${set('name')} autocomplete="off" />
      </div>
      <div class="admin-field">
        <label for="tpl-module">${t('admin.templates.module')}</label>
        <input id="tpl-module" value=${form.module} onInput=${set('module')} disabled=${!isNew} autocomplete="off" />
      </div>
    </div>
    ${form.channel === 'email' && html`<div class="admin-field">
      <label for="tpl-subject">${t('admin.templates.subject')}</label>
      <input id="tpl-subject" value=${form.subject} onInput=${set('subject')} autocomplete="off" />
    </div>`}
    <div class="admin-field">
      <label for="tpl-body">${t('admin.templates.body')}</label>
      <textarea id="tpl-body" rows="4" value=${form.body} onInput=${set('body')}></textarea>
    </div>
    ${form.channel === 'sms' && html`<${SmsPreview} api=${api} me=${me} lang=${lang} body=${form.body} />`}
    ${!isNew && editing.channel === 'sms' && editing.status === 'approved' && html`<p class="admin-hint" id="tpl-version-hint">
      ${t('admin.templates.newVersionHint', { version: editing.version ?? 1 })}</p>`}
    <${ErrorNote} error=${act.error} lang=${lang} id="template-form-error" />
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy} id="tpl-save">
        ${isNew ? t('admin.templates.create') : form.channel === 'sms' ? t('admin.templates.saveDraft') : t('admin.templates.save')}</button>
      ${!isNew && form.channel === 'sms' && html`<button type="button" class="primary-button" id="tpl-save-submit" disabled=${act.busy}
        onClick=${(ev) => save(ev, true)}>${t('admin.templates.saveSubmit')}</button>`}
      <button type="button" class="text-button" onClick=${onCancel}>${t('admin.templates.cancel')}</button>
    </div>
  </form>`;
}

function Row({ api, me, lang, tpl, onChanged, onEdit, panel, onPanel }) {
  const t = (k, v) => tr(lang, k, v);
  const act = useAction();
  const useful = templateActions(tpl);

  async function run(action) {
    const rec = await act.run(() => api.request('POST', orgPath(me, `/templates/${encodeURIComponent(tpl.id)}/${action}`)),
      (r) => t(`admin.templates.done.${action}`, { name: r.name ?? tpl.name }));
    if (rec) onChanged(rec);
  }

  const errId = `tpl-${tpl.id}-error`;
  return html`<tr data-template=${tpl.id} data-status=${tpl.status}>
    <th scope="row">${tpl.name}</th>
    <td><${Chips} tpl=${tpl} lang=${lang} /></td>
    <td class="admin-row-actions">
      <button type="button" class="text-button" data-action="edit" onClick=${() => onEdit(tpl)}
        aria-label=${`${t('admin.templates.edit')}: ${tpl.name}`}>${t('admin.templates.edit')}</button>
      ${['versions', ...(tpl.channel === 'sms' ? ['dlt'] : [])].map((what) => html`<button type="button"
        class=${panel === what ? 'small-button is-primary' : 'small-button'} data-action=${what}
        aria-expanded=${panel === what ? 'true' : 'false'} aria-label=${`${t(`admin.templates.show.${what}`)}: ${tpl.name}`}
        onClick=${() => onPanel(panel === what ? null : what)}>${t(`admin.templates.show.${what}`)}</button>`)}
      ${tpl.channel === 'sms' && ['submit', 'approve', 'reject'].map((action) => html`<button type="button"
          class=${useful.includes(action) ? 'small-button is-primary' : 'small-button'} data-action=${action}
          disabled=${act.busy} aria-describedby=${act.error ? errId : undefined}
          aria-label=${`${t(`admin.templates.${action}`)}: ${tpl.name}`} onClick=${() => run(action)}>
          ${t(`admin.templates.${action}`)}</button>`)}
    </td>
    <td class="num">v${tpl.version ?? 1}</td>
    <td>${t(`admin.templates.channel.${tpl.channel}`)}</td>
    <td>${tpl.module}</td>
  </tr>
  <tr class="admin-row-message" data-template-message=${tpl.id}>
    <td colspan="6">
      <span role="status" class="admin-ok">${act.ok}</span>
      <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
    </td>
  </tr>`;
}

export function TemplatesView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [editing, setEditing] = useState(undefined); // undefined: no form; null: new; a template: edit
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/templates')), [me.org]);
  const [local, setLocal] = useState({});
  const [panel, setPanel] = useState({ id: null, what: null });
  const list = (data?.templates || []).map((tpl) => local[tpl.id] || tpl);
  const changed = (rec) => setLocal((m) => ({ ...m, [rec.id]: rec }));
  const open = list.find((x) => x.id === panel.id);
  const newButton = html`<button type="button" class="primary-button" id="template-new"
    onClick=${() => setEditing(null)}>${t('admin.templates.new')}</button>`;
  return html`<${ViewFrame} id="templates" title=${t('admin.templates.title')} actions=${newButton}>
    ${editing !== undefined && html`<${TemplateForm} key=${editing?.id || 'new'} api=${api} me=${me} lang=${lang}
      editing=${editing} onCancel=${() => setEditing(undefined)}
      onDone=${(rec) => { changed(rec); setEditing(undefined); reload(); }} />`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    ${error && html`<${ErrorNote} error=${error} lang=${lang} />`}
    ${data && !list.length && html`<p class="admin-muted">${t('admin.empty')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="templates-table" caption=${t('admin.templates.listCaption')}
      head=${[t('admin.templates.name'), t('admin.templates.status'), t('admin.templates.actions'),
        [t('admin.templates.version'), 'num'], t('admin.templates.channel'), t('admin.templates.module')]}>
      ${list.map((tpl) => html`<${Row} key=${tpl.id} api=${api} me=${me} lang=${lang} tpl=${tpl}
          onChanged=${changed} onEdit=${(x) => setEditing(x)} panel=${panel.id === tpl.id ? panel.what : null}
          onPanel=${(what) => setPanel({ id: tpl.id, what })} />`)}<//>`}
    ${open && panel.what === 'versions' && html`<${VersionsPanel} key=${`v-${open.id}`} api=${api} me=${me} lang=${lang} tpl=${open} />`}
    ${open && panel.what === 'dlt' && html`<${DltPanel} key=${`d-${open.id}`} api=${api} me=${me} lang=${lang} tpl=${open} />`}
  <//>`;
}
