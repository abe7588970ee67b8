// Mailboxes: the org's IMAP mailboxes with their listener's state, last error and last UID
// (GET /api/v1/orgs/{org}/mailboxes; passwords are never sent to the page). Mailboxes added by
// API can be added (POST; the password field is cleared once saved) and removed (DELETE).
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { errorField, formatInZone, mailboxTone, tr } from './logic.js';
import { loadUsers } from './rules.js';

const TLS = { implicit: 993, starttls: 143, none: 143 };
const EMPTY = { user: '', host: '', port: '', tls: 'implicit', username: '', password: '', folder: 'INBOX', mode: 'inbox' };

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
    const port = form.port.trim() === '' ? TLS[form.tls] : /^\d+$/.test(form.port.trim()) ? Number(form.port.trim()) : form.port;
    const body = { user, host: form.host.trim(), port, tls: form.tls, username: form.username.trim(),
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

  const input = (name, type = 'text', extra = {}) => html`<div class="admin-field">
    <label for=${`mailbox-${name}`}>${t(`admin.mailboxes.f.${name}`)}</label>
    <input id=${`mailbox-${name}`} type=${type} value=${form[name]} autocomplete=${type === 'password' ? 'new-password' : 'off'}
      aria-invalid=${field === name ? 'true' : 'false'} aria-describedby=${field === name ? 'mailbox-form-error' : undefined}
      onInput=${set(name)} ...${extra} />
  </div>`;
  return html`<form class="admin-form admin-card" id="mailbox-form" onSubmit=${add} novalidate aria-labelledby="mailbox-form-title">
    <h3 id="mailbox-form-title">${t('admin.mailboxes.add')}</h3>
    <div class="admin-grid">
      <div class="admin-field">
        <label for="mailbox-user">${t('admin.mailboxes.owner')}</label>
        <select id="mailbox-user" value=${user} onChange=${set('user')}>
          ${(users || []).map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        </select>
      </div>
      ${input('host')}
      <div class="admin-field">
        <label for="mailbox-tls">${t('admin.mailboxes.f.tls')}</label>
        <select id="mailbox-tls" value=${form.tls} onChange=${set('tls')}>
          ${Object.keys(TLS).map((k) => html`<option value=${k}>${t(`admin.mailboxes.tls.${k}`)}</option>`)}
        </select>
      </div>
      ${input('port', 'text', { inputmode: 'numeric', placeholder: String(TLS[form.tls]) })}
      ${input('username')}
      ${input('password', 'password')}
      ${input('folder')}
      <div class="admin-field">
        <label for="mailbox-mode">${t('admin.mailboxes.mode')}</label>
        <select id="mailbox-mode" value=${form.mode} onChange=${set('mode')}>
          ${['inbox', 'sent', 'dropbox'].map((k) => html`<option value=${k}>${t(`admin.mailboxes.mode.${k}`)}</option>`)}
        </select>
      </div>
    </div>
    <p class="admin-hint">${t('admin.mailboxes.passwordHint')}</p>
    <${ErrorNote} error=${act.error} lang=${lang} id="mailbox-form-error" />
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy}>${t('admin.mailboxes.addButton')}</button>
      <span role="status" class="admin-ok">${act.ok}</span>
    </div>
  </form>`;
}

function RemoveMailbox({ api, me, lang, box, onRemoved }) {
  const t = (k, v) => tr(lang, k, v);
  if (box.source !== 'api') return html`<span class="admin-muted admin-small">${t('admin.mailboxes.fromConfig')}</span>`;
  return html`<${ConfirmAction} lang=${lang} label=${t('admin.delete')} errId=${`mailbox-${box.id}-error`}
    question=${t('admin.mailboxes.removeQ', { name: box.username })}
    request=${() => api.request('DELETE', orgPath(me, `/mailboxes/${encodeURIComponent(box.id)}`))} onDone=${() => onRemoved()} />`;
}

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
          <td class="admin-row-actions"><${RemoveMailbox} api=${api} me=${me} lang=${lang} box=${b} onRemoved=${reload} /></td>
        </tr>`)}<//>`}
    <${AddMailbox} api=${api} me=${me} lang=${lang} onAdded=${reload} />
  <//>`;
}
