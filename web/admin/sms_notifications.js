// SMS notifications (the CRM's "SMS notification"): the list, create/edit (name, module — fixed
// after creation —, which phone of the record, an approved SMS template of that module), delete,
// and a trigger for contacts picked from a search (→ one result per contact: a notification, or why
// none) or for a segment (→ a segment send: its progress, polled, then its per-member results).
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, SaveCancel, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { FanoutProgress, FanoutResultsOnDemand, ResultsTable, useFanout } from './fanout.js';
import { tr } from './logic.js';
import { DataRows, loadSegments, loadTemplates } from './messaging_common.js';
import { contactsQuery, dataFromRows, emptyDataRow, newIdempotencyKey, triggerSummary } from './messaging_logic.js';

const PHONE_FIELDS = ['mobile', 'work', 'home', 'other', 'any'];
const MAX_CONTACTS = 1000;

function DefinitionForm({ api, me, lang, editing, templates, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  const isNew = !editing;
  const [form, setForm] = useState(() => ({
    id: editing?.id || '', name: editing?.name || '', module: editing?.module || '',
    phone_field: editing?.phone_field || 'mobile', template: editing?.template || '',
  }));
  const act = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const approved = templates.filter((x) => x.channel === 'sms' && x.status === 'approved');
  const modules = [...new Set(approved.map((x) => x.module))].sort();
  const ofModule = approved.filter((x) => x.module === form.module);
  const template = ofModule.some((x) => x.id === form.template) ? form.template : ofModule[0]?.id || '';

  async function save(ev) {
    ev.preventDefault();
    const id = (isNew ? form.id.trim() : editing.id) || `smsn-${newIdempotencyKey('x').slice(2, 12).replace(/[^A-Za-z0-9]/g, '')}`;
    const body = { name: form.name.trim(), module: form.module.trim(), phone_field: form.phone_field, template };
    const rec = await act.run(() => api.request('PUT', orgPath(me, `/sms-notifications/${encodeURIComponent(id)}`), body));
    if (rec) onDone(rec);
  }

  return html`<form class="admin-form admin-card" id="smsn-form" onSubmit=${save} novalidate aria-labelledby="smsn-form-title">
    <h3 id="smsn-form-title">${isNew ? t('admin.smsn.new') : t('admin.smsn.editing', { name: editing.name })}</h3>
    <div class="admin-grid">
      <div class="admin-field">
        <label for="smsn-name">${t('admin.smsn.name')}</label>
        <input id="smsn-name" value=${form.name} autocomplete="off" onInput=${set('name')} />
      </div>
      ${isNew && html`<div class="admin-field">
        <label for="smsn-id">${t('admin.segments.id')}</label>
        <input id="smsn-id" value=${form.id} autocomplete="off" aria-describedby="smsn-id-hint" onInput=${set('id')} />
        <p class="admin-hint" id="smsn-id-hint">${t('admin.segments.idHint')}</p>
      </div>`}
      <div class="admin-field">
        <label for="smsn-module">${t('admin.templates.module')}</label>
        <input id="smsn-module" value=${form.module} autocomplete="off" list="smsn-modules" disabled=${!isNew}
          aria-describedby="smsn-module-hint" onInput=${set('module')} />
        <datalist id="smsn-modules">${modules.map((m) => html`<option value=${m}></option>`)}</datalist>
        <p class="admin-hint" id="smsn-module-hint">${t(isNew ? 'admin.smsn.moduleHint' : 'admin.smsn.moduleFixed')}</p>
      </div>
      <div class="admin-field">
        <label for="smsn-phone-field">${t('admin.smsn.phoneField')}</label>
        <select id="smsn-phone-field" value=${form.phone_field} onChange=${set('phone_field')}>
          ${PHONE_FIELDS.map((f) => html`<option value=${f}>${t(`admin.smsn.phone.${f}`)}</option>`)}
        </select>
      </div>
      <div class="admin-field">
        <label for="smsn-template">${t('admin.smsn.template')}</label>
        <select id="smsn-template" value=${template} aria-describedby="smsn-template-hint" onChange=${set('template')}>
          ${ofModule.map((x) => html`<option value=${x.id}>${x.name} (${x.id})</option>`)}
        </select>
        <p class="admin-hint" id="smsn-template-hint">${ofModule.length ? t('admin.smsn.templateHint') : t('admin.smsn.noTemplate')}</p>
      </div>
    </div>
    <${SaveCancel} act=${act} lang=${lang} errId="smsn-form-error" onCancel=${onCancel} />
  </form>`;
}

function ContactPicker({ api, me, lang, chosen, setChosen }) {
  const t = (k, v) => tr(lang, k, v);
  const [q, setQ] = useState('');
  const act = useAction();
  const [found, setFound] = useState(null);
  async function search(ev) {
    ev.preventDefault();
    const out = await act.run(() => api.request('GET', orgPath(me, `/contacts${contactsQuery(q, null, 10)}`)));
    if (out) setFound(out.contacts || []);
  }
  const has = (id) => chosen.some((c) => c.id === id);
  return html`<div class="admin-block" role="group" aria-labelledby="trigger-contacts-title">
    <h4 id="trigger-contacts-title">${t('admin.smsn.pickContacts')}</h4>
    <div class="admin-filters">
      <div class="admin-field">
        <label for="trigger-q">${t('admin.contacts.search')}</label>
        <input id="trigger-q" type="search" value=${q} autocomplete="off" onInput=${(e) => setQ(e.currentTarget.value)}
          onKeyDown=${(e) => e.key === 'Enter' && search(e)} />
      </div>
      <div class="admin-actions"><button type="button" class="small-button" id="trigger-search" onClick=${search}>${t('admin.contacts.searchButton')}</button></div>
    </div>
    <${ErrorNote} error=${act.error} lang=${lang} id="trigger-search-error" />
    ${found && !found.length && html`<p class="admin-muted">${t('admin.contacts.none')}</p>`}
    ${found && found.length > 0 && html`<ul class="admin-pick-list" id="trigger-found">
      ${found.map((c) => html`<li key=${c.id} data-found=${c.id}>
        <span>${c.name || c.id}${c.company ? ` · ${c.company}` : ''}</span>
        <button type="button" class="small-button" disabled=${has(c.id) || chosen.length >= MAX_CONTACTS}
          aria-label=${t('admin.smsn.addContact', { name: c.name || c.id })}
          onClick=${() => setChosen([...chosen, { id: c.id, name: c.name || c.id }])}>${t('admin.smsn.add')}</button>
      </li>`)}
    </ul>`}
    <p class="admin-muted" id="trigger-chosen-label">${t('admin.smsn.chosen', { n: chosen.length })}</p>
    ${chosen.length > 0 && html`<ul class="admin-chips" id="trigger-chosen" aria-labelledby="trigger-chosen-label">
      ${chosen.map((c) => html`<li key=${c.id} class="admin-chip" data-chosen=${c.id}>${c.name}
        <button type="button" class="admin-chip-x" aria-label=${t('admin.smsn.removeContact', { name: c.name })}
          onClick=${() => setChosen(chosen.filter((x) => x.id !== c.id))}>×</button></li>`)}
    </ul>`}
  </div>`;
}

function TriggerResults({ lang, answer, names }) {
  const t = (k, v) => tr(lang, k, v);
  const s = triggerSummary(answer);
  return html`<div class="admin-block" id="trigger-results">
    <p role="status" class="admin-ok" id="trigger-counts">${t('admin.smsn.triggered', s)}</p>
    <${ResultsTable} lang=${lang} id="trigger-table" caption=${t('admin.smsn.resultsCaption')} rows=${s.rows} names=${names} />
  </div>`;
}

/** A trigger for a segment: the segment send's progress (polled), then its per-member results. */
function TriggerFanout({ api, me, lang, def, initial }) {
  const { fanout, error } = useFanout(api, me, initial);
  return html`<div class="admin-block" id="trigger-fanout" data-fanout=${fanout.id}>
    <${FanoutProgress} lang=${lang} fanout=${fanout} idPrefix="trigger-fanout" why=${tr(lang, `admin.smsn.noPhone.${def.phone_field}`)} />
    <${ErrorNote} error=${error} lang=${lang} id="trigger-fanout-poll-error" />
    <${FanoutResultsOnDemand} api=${api} me=${me} lang=${lang} fanout=${fanout} idPrefix="trigger-fanout" />
  </div>`;
}

function TriggerForm({ api, me, lang, def }) {
  const t = (k, v) => tr(lang, k, v);
  const [target, setTarget] = useState('contacts');
  const [chosen, setChosen] = useState([]);
  const [segment, setSegment] = useState('');
  const [rows, setRows] = useState(() => [emptyDataRow()]);
  const [answer, setAnswer] = useState(null);
  const { data: segments } = useLoad(() => loadSegments(api, me), [me.org]);
  const act = useAction();
  const seg = segment || segments?.[0]?.id || '';

  async function trigger(ev) {
    ev.preventDefault();
    const body = { data: dataFromRows(rows), idempotency_key: newIdempotencyKey('smsn') };
    if (target === 'segment') body.segment = seg;
    else body.contacts = chosen.map((c) => c.id);
    const out = await act.run(() => api.request('POST', orgPath(me, `/sms-notifications/${encodeURIComponent(def.id)}/trigger`), body));
    if (out) setAnswer(out);
  }

  const names = Object.fromEntries(chosen.map((c) => [c.id, c.name]));
  return html`<form class="admin-form admin-card" id="trigger-form" onSubmit=${trigger} novalidate aria-labelledby="trigger-title">
    <h3 id="trigger-title">${t('admin.smsn.triggerTitle', { name: def.name })}</h3>
    <fieldset class="admin-checks">
      <legend>${t('admin.smsn.to')}</legend>
      ${['contacts', 'segment'].map((k) => html`<label class="admin-check"><input type="radio" name="trigger-target" value=${k}
        id=${`trigger-target-${k}`} checked=${target === k} onChange=${() => setTarget(k)} /> ${t(`admin.smsn.target.${k}`)}</label>`)}
    </fieldset>
    ${target === 'contacts'
      ? html`<${ContactPicker} api=${api} me=${me} lang=${lang} chosen=${chosen} setChosen=${setChosen} />`
      : html`<div class="admin-field">
          <label for="trigger-segment">${t('admin.segments.title')}</label>
          <select id="trigger-segment" value=${seg} onChange=${(e) => setSegment(e.currentTarget.value)}>
            ${(segments || []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
          </select>
        </div>`}
    <${DataRows} lang=${lang} rows=${rows} setRows=${setRows} />
    <${ErrorNote} error=${act.error} lang=${lang} id="trigger-error" />
    <div class="admin-actions">
      <button type="submit" class="primary-button" id="trigger-send"
        disabled=${act.busy || (target === 'contacts' ? !chosen.length : !seg)}>${t('admin.smsn.trigger')}</button>
    </div>
    ${answer?.fanout && html`<${TriggerFanout} key=${answer.fanout.id} api=${api} me=${me} lang=${lang} def=${def} initial=${answer.fanout} />`}
    ${answer && !answer.fanout && html`<${TriggerResults} lang=${lang} answer=${answer} names=${names} />`}
  </form>`;
}

function Row({ api, me, lang, def, templates, onEdit, onTrigger, onDeleted }) {
  const t = (k, v) => tr(lang, k, v);
  const tpl = templates.find((x) => x.id === def.template);
  return html`<tr data-smsn=${def.id}>
    <th scope="row">${def.name}<span class="admin-muted admin-small admin-block-line admin-mono">${def.id}</span></th>
    <td>${def.module}</td>
    <td>${t(`admin.smsn.phone.${def.phone_field}`)}</td>
    <td>${tpl ? tpl.name : def.template}</td>
    <td class="admin-row-actions">
      <button type="button" class="small-button is-primary" data-action="trigger" aria-label=${`${t('admin.smsn.trigger')}: ${def.name}`}
        onClick=${() => onTrigger(def)}>${t('admin.smsn.trigger')}</button>
      <button type="button" class="small-button" data-action="edit" aria-label=${`${t('admin.edit')}: ${def.name}`}
        onClick=${() => onEdit(def)}>${t('admin.edit')}</button>
      <${ConfirmAction} lang=${lang} label=${t('admin.delete')} errId=${`smsn-${def.id}-error`}
        question=${t('admin.segments.deleteQ', { name: def.name })}
        request=${() => api.request('DELETE', orgPath(me, `/sms-notifications/${encodeURIComponent(def.id)}`))}
        onDone=${() => onDeleted(def.id)} />
    </td>
  </tr>`;
}

export function SmsNotificationsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [editing, setEditing] = useState(undefined);
  const [triggering, setTriggering] = useState(null);
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/sms-notifications')), [me.org]);
  const { data: templates } = useLoad(() => loadTemplates(api, me), [me.org]);
  const list = data?.sms_notifications || [];
  const newButton = html`<button type="button" class="primary-button" id="smsn-new" onClick=${() => setEditing(null)}>${t('admin.smsn.new')}</button>`;
  return html`<${ViewFrame} id="sms-notifications" title=${t('admin.smsn.title')} actions=${newButton}>
    <p class="admin-hint">${t('admin.smsn.hint')}</p>
    ${editing !== undefined && templates && html`<${DefinitionForm} key=${editing?.id || 'new'} api=${api} me=${me} lang=${lang}
      editing=${editing} templates=${templates} onCancel=${() => setEditing(undefined)}
      onDone=${() => { setEditing(undefined); reload(); }} />`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && !list.length && html`<p class="admin-muted" id="smsn-none">${t('admin.smsn.none')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="smsn-table" caption=${t('admin.smsn.caption')}
      head=${[t('admin.smsn.name'), t('admin.templates.module'), t('admin.smsn.phoneField'),
        t('admin.smsn.template'), t('admin.templates.actions')]}>
      ${list.map((def) => html`<${Row} key=${def.id} api=${api} me=${me} lang=${lang} def=${def} templates=${templates || []}
          onEdit=${(d) => setEditing(d)} onTrigger=${(d) => setTriggering(d)}
          onDeleted=${(id) => { if (triggering?.id === id) setTriggering(null); reload(); }} />`)}<//>`}
    ${triggering && html`<${TriggerForm} key=${triggering.id} api=${api} me=${me} lang=${lang} def=${triggering} />`}
  <//>`;
}
