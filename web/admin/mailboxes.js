// Mailboxes: the org's IMAP mailboxes with their listener's state, last error and last UID
// (GET /api/v1/orgs/{org}/mailboxes; passwords are never sent to the page). Mailboxes added by
// API can be added (POST; the password field is cleared once saved), changed in place (PATCH: a
// new password — "Change password" — or any setting — "Edit"; only what changed is sent, an empty
// password field keeps the stored one) and removed (DELETE).
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, SaveCancel, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { errorField, formatInZone, mailboxChanges, mailboxPort, mailboxTone, tr } from './logic.js';
import { loadUsers } from './rules.js';

const TLS = { implicit: 993, starttls: 143, none: 143 };
const EMPTY = { user: '', host: '', port: '', tls: 'implicit', username: '', password: '', folder: 'INBOX', mode: 'inbox' };

/** The inputs of a mailbox form; ids are `${prefix}-<field>`, the one the API named is marked invalid. */
function MailboxFields({ t, prefix, form, set, field, errId, users, user, only }) {
  const input = (name, type = 'text', extra = {}) => html`<div class="admin-field">
    <label for=${`${prefix}-${name}`}>${t(`admin.mailboxes.f.${name}`)}</label>
    <input id=${`${prefix}-${name}`} type=${type} value=${form[name]} autocomplete=${type === 'password' ? 'new-password' : 'off'}
      aria-invalid=${field === name ? 'true' : 'false'} aria-describedby=${field === name ? errId : undefined}
      onInput=${set(name)} ...${extra} />
  </div>`;
  if (only === 'password') return html`<div class="admin-grid">${input('password', 'password', { autofocus: true })}</div>`;
  return html`<div class="admin-grid">
      <div class="admin-field">
        <label for=${`${prefix}-user`}>${t('admin.mailboxes.owner')}</label>
        <select id=${`${prefix}-user`} value=${user} onChange=${set('user')}
          aria-invalid=${field === 'user' ? 'true' : 'false'} aria-describedby=${field === 'user' ? errId : undefined}>
          ${(users || []).map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        </select>
      </div>
      ${input('host')}
      <div class="admin-field">
        <label for=${`${prefix}-tls`}>${t('admin.mailboxes.f.tls')}</label>
        <select id=${`${prefix}-tls`} value=${form.tls} onChange=${set('tls')}>
          ${Object.keys(TLS).map((k) => html`<option value=${k}>${t(`admin.mailboxes.tls.${k}`)}</option>`)}
        </select>
      </div>
      ${input('port', 'text', { inputmode: 'numeric', placeholder: String(TLS[form.tls]) })}
      ${input('username')}
      ${input('password', 'password')}
      ${input('folder')}
      <div class="admin-field">
        <label for=${`${prefix}-mode`}>${t('admin.mailboxes.mode')}</label>
        <select id=${`${prefix}-mode`} value=${form.mode} onChange=${set('mode')}>
          ${['inbox', 'sent', 'dropbox'].map((k) => html`<option value=${k}>${t(`admin.mailboxes.mode.${k}`)}</option>`)}
        </select>
      </div>
    </div>`;
}

function AddMailbox({ api, me, lang, onAdded }) {
  const t = (k, v) => tr(lang, k, v);
  const { data: users } = useLoad(() => loadUsers(api, me), [me.org]);
  const [form, setForm] = useState(EMPTY);
  const act = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const user = form.user || users?.[0]?.id || '';
  const field = act.error ? errorField(act.error.detail) : null;

  async function add(ev) {
    ev.preventDefault();
    const body = { user, host: form.host.trim(), port: mailboxPort(form), tls: form.tls, username: form.username.trim(),
      password: form.password, folder: form.folder.trim() || 'INBOX', mode: form.mode };
    const rec = await act.run(() => api.request('POST', orgPath(me, '/mailboxes'), body),
      (r) => t('admin.mailboxes.added', { name: r.username }));
    // The password is never shown again once it is saved: the field is emptied either way it went.
    if (rec) {
      setForm({ ...EMPTY });
      onAdded();
    } else {
      setForm((f) => ({ ...f, password: '' }));
    }
  }

  return html`<form class="admin-form admin-card" id="mailbox-form" onSubmit=${add} novalidate aria-labelledby="mailbox-form-title">
    <h3 id="mailbox-form-title">${t('admin.mailboxes.add')}</h3>
    <${MailboxFields} t=${t} prefix="mailbox" form=${form} set=${set} field=${field} errId="mailbox-form-error"
      users=${users} user=${user} />
    <p class="admin-hint">${t('admin.mailboxes.passwordHint')}</p>
    <${ErrorNote} error=${act.error} lang=${lang} id="mailbox-form-error" />
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy}>${t('admin.mailboxes.addButton')}</button>
      <span role="status" class="admin-ok">${act.ok}</span>
    </div>
  </form>`;
}

/** "Change password" (`only` = 'password') or "Edit" of an API mailbox: PATCH with what changed. */
function EditMailbox({ api, me, lang, box, only, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  const { data: users } = useLoad(() => loadUsers(api, me), [me.org]);
  const [form, setForm] = useState(() => ({ user: box.user, host: box.host, port: String(box.port), tls: box.tls,
    username: box.username, password: '', folder: box.folder, mode: box.mode }));
  const act = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const field = act.error ? errorField(act.error.detail) : null;
  const errId = 'mailbox-edit-error';

  async function save(ev) {
    ev.preventDefault();
    const path = orgPath(me, `/mailboxes/${encodeURIComponent(box.id)}`);
    const rec = await act.run(() => api.request('PATCH', path, mailboxChanges(box, form, only)));
    setForm((f) => ({ ...f, password: '' })); // never kept on the page, whatever the answer
    if (rec) onDone(t('admin.mailboxes.changed', { name: rec.username }));
  }

  const title = t(only === 'password' ? 'admin.mailboxes.passwordTitle' : 'admin.mailboxes.editTitle', { name: box.username });
  return html`<form class="admin-form admin-card" id="mailbox-edit" data-mailbox=${box.id} onSubmit=${save} novalidate
      aria-labelledby="mailbox-edit-title">
    <h3 id="mailbox-edit-title">${title}</h3>
    <${MailboxFields} t=${t} prefix="mailbox-edit" form=${form} set=${set} field=${field} errId=${errId}
      users=${users || [{ id: box.user }]} user=${form.user} only=${only} />
    <p class="admin-hint">${t(only === 'password' ? 'admin.mailboxes.passwordResume' : 'admin.mailboxes.editHint')}</p>
    <${SaveCancel} act=${act} lang=${lang} errId=${errId} onCancel=${onCancel} />
  </form>`;
}

function MailboxActions({ api, me, lang, box, onEdit, onRemoved }) {
  const t = (k, v) => tr(lang, k, v);
  if (box.source !== 'api') return html`<span class="admin-muted admin-small">${t('admin.mailboxes.fromConfig')}</span>`;
  return html`<button type="button" class="small-button" data-action="password"
      aria-label=${`${t('admin.mailboxes.changePassword')}: ${box.username}`}
      onClick=${() => onEdit(box, 'password')}>${t('admin.mailboxes.changePassword')}</button>
    <button type="button" class="small-button" data-action="edit" aria-label=${`${t('admin.edit')}: ${box.username}`}
      onClick=${() => onEdit(box, 'all')}>${t('admin.edit')}</button>
    <${RemoveMailbox} api=${api} me=${me} lang=${lang} box=${box} onRemoved=${onRemoved} />`;
}

function RemoveMailbox({ api, me, lang, box, onRemoved }) {
  const t = (k, v) => tr(lang, k, v);
  return html`<${ConfirmAction} lang=${lang} label=${t('admin.delete')} errId=${`mailbox-${box.id}-error`}
    question=${t('admin.mailboxes.removeQ', { name: box.username })}
    request=${() => api.request('DELETE', orgPath(me, `/mailboxes/${encodeURIComponent(box.id)}`))} onDone=${() => onRemoved()} />`;
}

export function MailboxesView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const tz = me.timezone || 'UTC';
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/mailboxes')), [me.org]);
  const [editing, setEditing] = useState(null); // { box, only: 'password' | 'all' }
  const [notice, setNotice] = useState('');
  const boxes = data?.mailboxes || [];
  const when = (iso) => (iso ? formatInZone(Date.parse(iso), tz, lang) : '');
  const reloadButton = html`<button type="button" class="text-button" id="mailboxes-reload" onClick=${reload}>${t('admin.reload')}</button>`;
  return html`<${ViewFrame} id="mailboxes" title=${t('admin.mailboxes.title')} actions=${reloadButton}>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    <p role="status" class="admin-ok" id="mailboxes-notice">${notice}</p>
    ${editing && html`<${EditMailbox} key=${`${editing.box.id}-${editing.only}`} api=${api} me=${me} lang=${lang}
      box=${editing.box} only=${editing.only} onCancel=${() => setEditing(null)}
      onDone=${(msg) => { setEditing(null); setNotice(msg); reload(); }} />`}
    ${data && !boxes.length && html`<p class="admin-muted">${t('admin.mailboxes.none')}</p>`}
    ${boxes.length > 0 && html`<${DataTable} id="mailboxes-table" caption=${t('admin.mailboxes.caption')}
      head=${[t('admin.mailboxes.mailbox'), t('admin.mailboxes.owner'), t('admin.mailboxes.mode'),
        t('admin.mailboxes.state'), [t('admin.mailboxes.lastUid'), 'num'], t('admin.mailboxes.lastError'),
        t('admin.templates.actions')]}>
      ${boxes.map((b) => html`<tr key=${b.id} data-mailbox=${b.id} data-state=${b.state}>
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
          <td class="admin-row-actions"><${MailboxActions} api=${api} me=${me} lang=${lang} box=${b}
            onEdit=${(box, only) => { setNotice(''); setEditing({ box, only }); }} onRemoved=${reload} /></td>
        </tr>`)}<//>`}
    <${AddMailbox} api=${api} me=${me} lang=${lang} onAdded=${reload} />
  <//>`;
}
