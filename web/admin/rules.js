// Automation rules: when a signal of a type is created (or is still unread N minutes after), send
// an SMS or email template to the contact, the owner or a named user. List, create/edit (with an
// enabled switch), delete.
import { TYPE_LABELS, typeLabel } from '../i18n.js';
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, SaveCancel, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { formatNumber, tr } from './logic.js';
import { loadTemplates } from './messaging_common.js';
import { minutesToSeconds, ruleBody, ruleForm, secondsToMinutes } from './messaging_logic.js';

const TARGETS = ['contact', 'owner', 'user'];

export async function loadUsers(api, me) {
  const { users } = await api.request('GET', orgPath(me, '/users'));
  return users || [];
}

function RuleForm({ api, me, lang, editing, templates, users, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  const isNew = !editing;
  const [form, setForm] = useState(() => ruleForm(editing));
  const [unreadBad, setUnreadBad] = useState(false);
  const act = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const usable = templates.filter((x) => x.channel === form.channel && (x.channel === 'email' || x.status === 'approved'));
  const template = usable.some((x) => x.id === form.template) ? form.template : usable[0]?.id || '';
  const user = form.user || users[0]?.id || '';
  const types = Object.keys(TYPE_LABELS.en);

  async function save(ev) {
    ev.preventDefault();
    const bad = Number.isNaN(minutesToSeconds(form.unread_for));
    setUnreadBad(bad);
    if (bad) return;
    const id = (isNew ? form.id.trim() : editing.id) || `rule-${Date.now().toString(36)}`;
    const rec = await act.run(() =>
      api.request('PUT', orgPath(me, `/rules/${encodeURIComponent(id)}`), ruleBody({ ...form, template, user })));
    if (rec) onDone(rec);
  }

  return html`<form class="admin-form admin-card" id="rule-form" onSubmit=${save} novalidate aria-labelledby="rule-form-title">
    <h3 id="rule-form-title">${isNew ? t('admin.rules.new') : t('admin.rules.editing', { name: editing.name || editing.id })}</h3>
    <div class="admin-grid">
      <div class="admin-field">
        <label for="rule-name">${t('admin.rules.name')}</label>
        <input id="rule-name" value=${form.name} autocomplete="off" onInput=${set('name')} />
      </div>
      ${isNew && html`<div class="admin-field">
        <label for="rule-id">${t('admin.segments.id')}</label>
        <input id="rule-id" value=${form.id} autocomplete="off" aria-describedby="rule-id-hint" onInput=${set('id')} />
        <p class="admin-hint" id="rule-id-hint">${t('admin.segments.idHint')}</p>
      </div>`}
      <div class="admin-field">
        <label for="rule-on">${t('admin.rules.on')}</label>
        <select id="rule-on" value=${form.on} onChange=${set('on')}>
          ${types.map((k) => html`<option value=${k}>${typeLabel(k, lang)}</option>`)}
        </select>
      </div>
      <div class="admin-field">
        <label for="rule-unread">${t('admin.rules.unreadFor')}</label>
        <input id="rule-unread" value=${form.unread_for} inputmode="decimal" autocomplete="off"
          aria-invalid=${unreadBad ? 'true' : 'false'} aria-describedby=${unreadBad ? 'rule-unread-error rule-unread-hint' : 'rule-unread-hint'}
          onInput=${set('unread_for')} />
        <p class="admin-hint" id="rule-unread-hint">${t('admin.rules.unreadHint')}</p>
        ${unreadBad && html`<p class="admin-error" role="alert" id="rule-unread-error">${t('admin.rules.unreadBad')}</p>`}
      </div>
      <div class="admin-field">
        <label for="rule-channel">${t('admin.templates.channel')}</label>
        <select id="rule-channel" value=${form.channel} onChange=${(e) => setForm({ ...form, channel: e.currentTarget.value, template: '' })}>
          <option value="sms">${t('admin.templates.channel.sms')}</option>
          <option value="email">${t('admin.templates.channel.email')}</option>
        </select>
      </div>
      <div class="admin-field">
        <label for="rule-template">${t('admin.smsn.template')}</label>
        <select id="rule-template" value=${template} aria-describedby="rule-template-hint" onChange=${set('template')}>
          ${usable.map((x) => html`<option value=${x.id}>${x.name} (${x.id})</option>`)}
        </select>
        <p class="admin-hint" id="rule-template-hint">${usable.length ? t(`admin.rules.templateHint.${form.channel}`) : t('admin.smsn.noTemplate')}</p>
      </div>
      <div class="admin-field">
        <label for="rule-to">${t('admin.rules.to')}</label>
        <select id="rule-to" value=${form.to} onChange=${set('to')}>
          ${TARGETS.map((k) => html`<option value=${k}>${t(`admin.rules.to.${k}`)}</option>`)}
        </select>
      </div>
      ${form.to === 'user' && html`<div class="admin-field">
        <label for="rule-user">${t('admin.rules.user')}</label>
        <select id="rule-user" value=${user} onChange=${set('user')}>
          ${users.map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        </select>
      </div>`}
    </div>
    <div class="admin-field admin-check">
      <input id="rule-enabled" type="checkbox" role="switch" checked=${form.enabled}
        onChange=${(e) => setForm({ ...form, enabled: e.currentTarget.checked })} />
      <label for="rule-enabled">${t('admin.rules.enabled')}</label>
    </div>
    <${SaveCancel} act=${act} lang=${lang} errId="rule-form-error" onCancel=${onCancel} />
  </form>`;
}

function whenText(rule, t, lang) {
  const type = typeLabel(rule.on, lang);
  if (!rule.unread_for) return t('admin.rules.whenCreated', { type });
  return t('admin.rules.whenUnread', { type, minutes: formatNumber(Number(secondsToMinutes(rule.unread_for)), lang) });
}

function actionText(rule, t, templates) {
  const a = rule.action || {};
  const tpl = templates.find((x) => x.id === a.template);
  const to = a.to && typeof a.to === 'object' ? a.to.user : t(`admin.rules.to.${a.to}`);
  return t('admin.rules.actionText', { channel: t(`admin.templates.channel.${a.channel}`), template: tpl?.name || a.template, to });
}

function Row({ api, me, lang, rule, templates, onEdit, onDeleted }) {
  const t = (k, v) => tr(lang, k, v);
  const label = rule.name || rule.id;
  return html`<tr data-rule=${rule.id}>
    <th scope="row">${label}</th>
    <td>${whenText(rule, t, lang)}</td>
    <td>${actionText(rule, t, templates)}</td>
    <td><span class=${`admin-chip tone-${rule.enabled ? 'ok' : 'wait'}`}>${t(rule.enabled ? 'admin.rules.on.yes' : 'admin.rules.on.no')}</span></td>
    <td class="admin-row-actions">
      <button type="button" class="small-button" data-action="edit" aria-label=${`${t('admin.edit')}: ${label}`}
        onClick=${() => onEdit(rule)}>${t('admin.edit')}</button>
      <${ConfirmAction} lang=${lang} label=${t('admin.delete')} errId=${`rule-${rule.id}-error`}
        question=${t('admin.segments.deleteQ', { name: label })}
        request=${() => api.request('DELETE', orgPath(me, `/rules/${encodeURIComponent(rule.id)}`))} onDone=${() => onDeleted(rule.id)} />
    </td>
  </tr>`;
}

export function RulesView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [editing, setEditing] = useState(undefined);
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/rules')), [me.org]);
  const { data: templates } = useLoad(() => loadTemplates(api, me), [me.org]);
  const { data: users } = useLoad(() => loadUsers(api, me), [me.org]);
  const list = data?.rules || [];
  const newButton = html`<button type="button" class="primary-button" id="rule-new" onClick=${() => setEditing(null)}>${t('admin.rules.new')}</button>`;
  return html`<${ViewFrame} id="rules" title=${t('admin.rules.title')} actions=${newButton}>
    <p class="admin-hint">${t('admin.rules.hint')}</p>
    ${editing !== undefined && templates && users && html`<${RuleForm} key=${editing?.id || 'new'} api=${api} me=${me} lang=${lang}
      editing=${editing} templates=${templates} users=${users} onCancel=${() => setEditing(undefined)}
      onDone=${() => { setEditing(undefined); reload(); }} />`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && !list.length && html`<p class="admin-muted" id="rules-none">${t('admin.rules.none')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="rules-table" caption=${t('admin.rules.caption')}
      head=${[t('admin.rules.name'), t('admin.rules.when'), t('admin.rules.action'), t('admin.rules.state'),
        t('admin.templates.actions')]}>
      ${list.map((rule) => html`<${Row} key=${rule.id} api=${api} me=${me} lang=${lang} rule=${rule}
          templates=${templates || []} onEdit=${(r) => setEditing(r)} onDeleted=${reload} />`)}<//>`}
  <//>`;
}
