// Telephony users and groups: each user's telephony settings (enabled, outbound, record outbound,
// caller ID from the org's numbers) edited in the row and saved with the user's other fields as
// GET gives them; groups (name, members picked from the users) created, edited and deleted.
import { html, useEffect, useState } from '../ui.js';
import { ConfirmButton, DataTable, ErrorNote, Loading, SaveCancel, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { tr } from './logic.js';
import { idFrom, telephonyOf, userPutBody } from './telephony_logic.js';

const FLAGS = ['enabled', 'outbound', 'record_outbound'];

function UserRow({ api, me, lang, user, numbers }) {
  const t = (k, v) => tr(lang, k, v);
  const [form, setForm] = useState(() => telephonyOf(user));
  const act = useAction();
  useEffect(() => setForm(telephonyOf(user)), [user]);
  const uid = user.id;
  const base = `tel-${uid.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const name = user.name || uid;

  async function save() {
    const rec = await act.run(async () => {
      // GET first: the PUT carries the user's fields as they are now, with the new settings.
      const current = await api.request('GET', orgPath(me, `/users/${encodeURIComponent(uid)}`));
      return api.request('PUT', orgPath(me, `/users/${encodeURIComponent(uid)}`), userPutBody(current, form));
    }, t('admin.tel.savedUser', { name }));
    if (rec) setForm(telephonyOf(rec));
  }

  const flag = (key) => html`<td class="admin-center">
    <input type="checkbox" id=${`${base}-${key}`} data-flag=${key} checked=${form[key]}
      aria-label=${t(`admin.tel.${key}For`, { name })}
      onChange=${(e) => setForm({ ...form, [key]: e.currentTarget.checked })} /></td>`;
  const callerKnown = !form.caller_id || numbers.some((n) => n.phone_number === form.caller_id);
  return html`<tr data-user=${uid}>
    <th scope="row">${name}<span class="admin-small admin-muted">${user.phone || t('admin.tel.noPhone')}</span></th>
    ${FLAGS.map(flag)}
    <td>
      <select id=${`${base}-caller`} data-field="caller_id" value=${form.caller_id}
        aria-label=${t('admin.tel.callerIdFor', { name })}
        onChange=${(e) => setForm({ ...form, caller_id: e.currentTarget.value })}>
        <option value="">${t('admin.tel.noCallerId')}</option>
        ${numbers.map((n) => html`<option value=${n.phone_number}>${n.phone_number}</option>`)}
        ${!callerKnown && html`<option value=${form.caller_id}>${form.caller_id}</option>`}
      </select>
    </td>
    <td class="admin-row-actions">
      <button type="button" class="small-button is-primary" data-action="save-user" disabled=${act.busy}
        aria-label=${t('admin.tel.saveFor', { name })} aria-describedby=${act.error ? `${base}-error` : undefined}
        onClick=${save}>${t('admin.save')}</button>
    </td>
  </tr>
  <tr class="admin-row-message" data-user-message=${uid}>
    <td colspan="6">
      <span role="status" class="admin-ok">${act.ok}</span>
      <${ErrorNote} error=${act.error} lang=${lang} id=${`${base}-error`} />
    </td>
  </tr>`;
}

function GroupForm({ api, me, lang, users, editing, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  const [name, setName] = useState(editing?.name || '');
  const [members, setMembers] = useState(editing?.members || []);
  const act = useAction();
  const isNew = !editing;

  async function save(ev) {
    ev.preventDefault();
    const id = editing?.id || idFrom(name, 'group');
    const rec = await act.run(() => api.request('PUT', orgPath(me, `/groups/${encodeURIComponent(id)}`), { name, members }));
    if (rec) onDone(rec);
  }

  const toggle = (uid, on) => setMembers(on ? [...members.filter((m) => m !== uid), uid] : members.filter((m) => m !== uid));
  return html`<form class="admin-form admin-card" id="group-form" novalidate onSubmit=${save} aria-labelledby="group-form-title">
    <h3 id="group-form-title">${isNew ? t('admin.groups.new') : t('admin.groups.editing', { name: editing.name })}</h3>
    <div class="admin-field">
      <label for="group-name">${t('admin.groups.name')}</label>
      <input id="group-name" value=${name} autocomplete="off" onInput=${(e) => setName(e.currentTarget.value)} />
    </div>
    <fieldset class="admin-checks">
      <legend>${t('admin.groups.members')}</legend>
      ${users.map((u) => html`<label class="admin-check" key=${u.id}>
        <input type="checkbox" value=${u.id} data-member=${u.id} checked=${members.includes(u.id)}
          onChange=${(e) => toggle(u.id, e.currentTarget.checked)} />
        <span>${u.name || u.id}</span>
      </label>`)}
    </fieldset>
    <${SaveCancel} act=${act} lang=${lang} errId="group-form-error" label=${isNew ? t('admin.groups.create') : t('admin.save')} onCancel=${onCancel} />
  </form>`;
}

function GroupRow({ api, me, lang, group, names, onEdit, onDeleted }) {
  const t = (k, v) => tr(lang, k, v);
  const act = useAction();
  const errId = `group-${group.id}-error`;
  return html`<tr data-group=${group.id}>
    <th scope="row">${group.name}</th>
    <td>${(group.members || []).map((m) => names[m] || m).join('、')}</td>
    <td class="admin-row-actions">
      <button type="button" class="text-button" data-action="edit-group" aria-label=${`${t('admin.edit')}: ${group.name}`}
        onClick=${() => onEdit(group)}>${t('admin.edit')}</button>
      <${ConfirmButton} lang=${lang} action="delete-group" label=${t('admin.delete')} ariaLabel=${`${t('admin.delete')}: ${group.name}`}
        describedBy=${act.error ? errId : undefined} question=${t('admin.groups.deleteAsk', { name: group.name })}
        yes=${{ label: t('admin.delete'), action: 'confirm-delete' }} no=${{ label: t('admin.cancel') }}
        onConfirm=${async () => {
          const out = await act.run(() => api.request('DELETE', orgPath(me, `/groups/${encodeURIComponent(group.id)}`)));
          if (out) onDeleted(group);
        }} />
    </td>
  </tr>
  <tr class="admin-row-message"><td colspan="3"><${ErrorNote} error=${act.error} lang=${lang} id=${errId} /></td></tr>`;
}

function Groups({ api, me, lang, users }) {
  const t = (k, v) => tr(lang, k, v);
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/groups')), [me.org]);
  const [editing, setEditing] = useState(undefined); // undefined: no form; null: new; a group: edit
  const [done, setDone] = useState('');
  const groups = data?.groups || [];
  const names = Object.fromEntries(users.map((u) => [u.id, u.name || u.id]));
  return html`<div class="admin-block" id="groups">
    <div class="admin-panel-head">
      <h3 id="groups-title">${t('admin.groups.title')}</h3>
      <button type="button" class="primary-button" id="group-new" onClick=${() => setEditing(null)}>${t('admin.groups.new')}</button>
    </div>
    ${editing !== undefined && html`<${GroupForm} key=${editing?.id || 'new'} api=${api} me=${me} lang=${lang} users=${users}
      editing=${editing} onCancel=${() => setEditing(undefined)}
      onDone=${(rec) => { setEditing(undefined); setDone(t('admin.groups.saved', { name: rec.name })); reload(); }} />`}
    <p role="status" class="admin-ok" id="groups-done">${done}</p>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="groups-error" />
    ${data && !groups.length && html`<p class="admin-muted">${t('admin.groups.none')}</p>`}
    ${groups.length > 0 && html`<${DataTable} id="groups-table" caption=${t('admin.groups.caption')}
      head=${[t('admin.groups.name'), t('admin.groups.members'), t('admin.numbers.actions')]}>
      ${groups.map((g) => html`<${GroupRow} key=${g.id} api=${api} me=${me} lang=${lang} group=${g} names=${names}
          onEdit=${setEditing} onDeleted=${(x) => { setDone(t('admin.groups.deleted', { name: x.name })); reload(); }} />`)}<//>`}
  </div>`;
}

export function TelephonyUsersView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const users = useLoad(() => api.request('GET', orgPath(me, '/users?limit=1000')), [me.org]);
  const numbers = useLoad(() => api.request('GET', orgPath(me, '/numbers?limit=1000')), [me.org]);
  const list = users.data?.users || [];
  const owned = numbers.data?.numbers || [];
  return html`<${ViewFrame} id="telephony-users" title=${t('admin.tel.title')}>
    <h3 id="tel-users-title">${t('admin.tel.users')}</h3>
    ${(users.loading || numbers.loading) && !users.data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${users.error || numbers.error} lang=${lang} id="tel-users-error" />
    ${numbers.data && !owned.length && html`<p class="admin-hint">${t('admin.tel.noNumbers')}
      <a href="#/admin/numbers">${t('admin.numbers.title')}</a></p>`}
    ${list.length > 0 && html`<${DataTable} id="tel-users-table" caption=${t('admin.tel.caption')}
      head=${[t('admin.tel.user'), t('admin.tel.enabled'), t('admin.tel.outbound'), t('admin.tel.record_outbound'),
        t('admin.tel.callerId'), t('admin.numbers.actions')]}>
      ${list.map((u) => html`<${UserRow} key=${u.id} api=${api} me=${me} lang=${lang} user=${u} numbers=${owned} />`)}<//>`}
    ${users.data && html`<${Groups} api=${api} me=${me} lang=${lang} users=${list} />`}
  <//>`;
}
