// Reminders: the org's reminders filtered by user and status (paged); a scheduled one can be
// rescheduled (a date and time in the org's zone, sent as ISO 8601 with that zone's offset: only
// the new time fires) or cancelled (never sent).
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, Pager, ViewFrame, orgPath, useAction, useLoad, usePager } from './common.js';
import { formatInZone, tr } from './logic.js';
import { isoToLocal, localToIso, remindersQuery } from './messaging_logic.js';
import { loadUsers } from './rules.js';

const STATUSES = ['scheduled', 'sending', 'sent', 'skipped', 'failed', 'cancelled'];

function Reschedule({ api, me, lang, rem, tz, onChanged }) {
  const t = (k, v) => tr(lang, k, v);
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(() => isoToLocal(rem.remind_at, tz));
  const act = useAction();
  const id = `reminder-${rem.id}-at`;
  const errId = `reminder-${rem.id}-error`;
  if (!open) {
    return html`<button type="button" class="small-button" data-action="reschedule" aria-label=${`${t('admin.reminders.reschedule')}: ${rem.title}`}
      onClick=${() => setOpen(true)}>${t('admin.reminders.reschedule')}</button>`;
  }
  async function save(ev) {
    ev.preventDefault();
    const iso = localToIso(value, tz);
    const out = await act.run(async () => {
      if (!iso) throw Object.assign(new Error('time'), { code: 'invalid_time', status: 400 });
      return api.request('PUT', orgPath(me, `/reminders/${encodeURIComponent(rem.id)}`), { remind_at: iso });
    });
    if (out) {
      setOpen(false);
      onChanged(out, t('admin.reminders.rescheduled', { title: rem.title, when: formatInZone(Date.parse(out.remind_at), tz, lang) }));
    }
  }
  return html`<form class="admin-inline-form" onSubmit=${save} novalidate data-reschedule=${rem.id}>
    <label for=${id}>${t('admin.reminders.newTime', { tz })}</label>
    <input id=${id} type="datetime-local" value=${value} aria-describedby=${act.error ? errId : undefined}
      onInput=${(e) => setValue(e.currentTarget.value)} />
    <button type="submit" class="small-button is-primary" disabled=${act.busy}>${t('admin.save')}</button>
    <button type="button" class="small-button" onClick=${() => setOpen(false)}>${t('admin.cancel')}</button>
    <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
  </form>`;
}

function Row({ api, me, lang, rem, tz, users, onChanged }) {
  const t = (k, v) => tr(lang, k, v);
  const at = Date.parse(rem.remind_at);
  const user = users.find((u) => u.id === rem.user);
  return html`<tr data-reminder=${rem.id} data-status=${rem.status}>
    <th scope="row">${rem.title}<span class="admin-muted admin-small admin-block-line">${t(`admin.reminders.activity.${rem.activity}`)}</span></th>
    <td>${user?.name || rem.user}</td>
    <td data-remind-at=${rem.remind_at}>${Number.isFinite(at) ? formatInZone(at, tz, lang) : ''}</td>
    <td><span class=${`admin-chip tone-${rem.status === 'scheduled' ? 'wait' : rem.status === 'sent' ? 'ok' : 'bad'}`}>${t(`admin.reminders.status.${rem.status}`)}</span>
      ${rem.reason && html` <span class="admin-muted admin-small">${rem.reason}</span>`}</td>
    <td class="admin-row-actions">
      ${rem.status === 'scheduled' && html`<${Reschedule} api=${api} me=${me} lang=${lang} rem=${rem} tz=${tz} onChanged=${onChanged} />
        <${ConfirmAction} lang=${lang} action="cancel" label=${t('admin.reminders.cancel')} errId=${`reminder-${rem.id}-cancel-error`}
          question=${t('admin.reminders.cancelQ', { title: rem.title })}
          request=${() => api.request('DELETE', orgPath(me, `/reminders/${encodeURIComponent(rem.id)}`))}
          onDone=${(out) => onChanged(out, t('admin.reminders.cancelled', { title: rem.title }))} />`}
    </td>
  </tr>`;
}

export function RemindersView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const tz = me.timezone || 'UTC';
  const [filters, setFilters] = useState({ user: '', status: '' });
  const [local, setLocal] = useState({});
  const [note, setNote] = useState('');
  const pager = usePager();
  const { data: users } = useLoad(() => loadUsers(api, me), [me.org]);
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/reminders${remindersQuery(filters, pager.cursor)}`)),
    [me.org, filters.user, filters.status, pager.cursor],
  );
  const list = (data?.reminders || []).map((r) => local[r.id] || r);
  const setFilter = (key) => (e) => { pager.reset(); setFilters({ ...filters, [key]: e.currentTarget.value }); };
  const changed = (rec, text) => { setLocal({ ...local, [rec.id]: rec }); setNote(text); };
  return html`<${ViewFrame} id="reminders" title=${t('admin.reminders.title')}>
    <div class="admin-filters" role="group" aria-label=${t('admin.reminders.filters')}>
      <div class="admin-field">
        <label for="reminders-user">${t('admin.reminders.user')}</label>
        <select id="reminders-user" value=${filters.user} onChange=${setFilter('user')}>
          <option value="">${t('admin.reminders.all')}</option>
          ${(users || []).map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        </select>
      </div>
      <div class="admin-field">
        <label for="reminders-status">${t('admin.reminders.status')}</label>
        <select id="reminders-status" value=${filters.status} onChange=${setFilter('status')}>
          <option value="">${t('admin.reminders.all')}</option>
          ${STATUSES.map((s) => html`<option value=${s}>${t(`admin.reminders.status.${s}`)}</option>`)}
        </select>
      </div>
    </div>
    <p class="admin-hint">${t('admin.reminders.zone', { tz })}</p>
    <p role="status" class="admin-ok" id="reminders-status-text">${note}</p>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && !list.length && html`<p class="admin-muted" id="reminders-none">${t('admin.reminders.none')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="reminders-table" caption=${t('admin.reminders.caption')}
      head=${[t('admin.reminders.titleCol'), t('admin.reminders.user'), t('admin.reminders.at'),
        t('admin.reminders.status'), t('admin.templates.actions')]}>
      ${list.map((rem) => html`<${Row} key=${rem.id} api=${api} me=${me} lang=${lang} rem=${rem} tz=${tz}
          users=${users || []} onChanged=${changed} />`)}<//>`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id="reminders-pager" />
  <//>`;
}
