// Segments: the list, an editor (name + equality rows on kind / owner / company / marketing /
// fields.<name>), the members now (paged), delete, and a mass mail to the segment with its
// progress (POST .../notifications `to: {segment}` → the fan-out, polled until done: ./fanout.js).
import { html, useState } from '../ui.js';
import { ConfirmAction, DataTable, ErrorNote, Loading, Pager, SaveCancel, ViewFrame, orgPath, useAction, useLoad, usePager } from './common.js';
import { ContactsTable } from './contacts.js';
import { FanoutProgress, useFanout } from './fanout.js';
import { tr } from './logic.js';
import { DataRows, loadTemplates } from './messaging_common.js';
import {
  FIELD_TYPES, MATCH_KINDS, dataFromRows, emptyDataRow, emptyMatchRow, fanoutProgress, matchToRows, newIdempotencyKey,
  rowsToMatch,
} from './messaging_logic.js';

function newId() {
  return `seg-${newIdempotencyKey('x').slice(2, 14).replace(/[^A-Za-z0-9]/g, '')}`;
}

/** "kind = lead · fields.region = 関西" */
function matchText(match, t) {
  const parts = Object.entries(match || {}).map(([k, v]) => {
    const label = k.startsWith('fields.') ? k : t(`admin.segments.key.${k}`);
    const value = typeof v === 'boolean' ? t(v ? 'admin.msg.yes' : 'admin.msg.no') : String(v);
    return `${label} = ${value}`;
  });
  return parts.length ? parts.join(' · ') : t('admin.segments.everyone');
}

function ValueInput({ row, i, t, set }) {
  const id = `match-${i}-value`;
  const label = html`<label for=${id}>${t('admin.segments.value')}</label>`;
  const yesNo = html`<select id=${id} value=${row.value} onChange=${(e) => set({ value: e.currentTarget.value })}>
    <option value="true">${t('admin.msg.yes')}</option><option value="false">${t('admin.msg.no')}</option></select>`;
  if (row.kind === 'kind') {
    return html`<div class="admin-field">${label}<select id=${id} value=${row.value} onChange=${(e) => set({ value: e.currentTarget.value })}>
      <option value="lead">${t('admin.contacts.kind.lead')}</option><option value="contact">${t('admin.contacts.kind.contact')}</option>
    </select></div>`;
  }
  if (row.kind === 'marketing' || (row.kind === 'field' && row.type === 'bool')) return html`<div class="admin-field">${label}${yesNo}</div>`;
  return html`<div class="admin-field">${label}<input id=${id} value=${row.value} autocomplete="off"
    inputmode=${row.type === 'number' ? 'decimal' : undefined} onInput=${(e) => set({ value: e.currentTarget.value })} /></div>`;
}

function MatchRow({ row, i, t, problem, onChange, onRemove }) {
  const set = (patch) => onChange({ ...row, ...patch });
  const errId = `match-${i}-error`;
  return html`<fieldset class="admin-match-row" data-match-row=${i} aria-describedby=${problem ? errId : undefined}>
    <legend>${t('admin.segments.condition', { n: i + 1 })}</legend>
    <div class="admin-field">
      <label for=${`match-${i}-kind`}>${t('admin.segments.key')}</label>
      <select id=${`match-${i}-kind`} value=${row.kind}
        onChange=${(e) => onChange(emptyMatchRow(e.currentTarget.value))}>
        ${MATCH_KINDS.map((k) => html`<option value=${k}>${t(`admin.segments.key.${k}`)}</option>`)}
      </select>
    </div>
    ${row.kind === 'field' && html`<div class="admin-field">
        <label for=${`match-${i}-name`}>${t('admin.segments.fieldName')}</label>
        <input id=${`match-${i}-name`} value=${row.name} autocomplete="off" aria-invalid=${problem === 'name' ? 'true' : 'false'}
          onInput=${(e) => set({ name: e.currentTarget.value })} />
      </div>
      <div class="admin-field">
        <label for=${`match-${i}-type`}>${t('admin.segments.fieldType')}</label>
        <select id=${`match-${i}-type`} value=${row.type} onChange=${(e) => set({ type: e.currentTarget.value, value: e.currentTarget.value === 'bool' ? 'true' : row.value })}>
          ${FIELD_TYPES.map((k) => html`<option value=${k}>${t(`admin.segments.type.${k}`)}</option>`)}
        </select>
      </div>`}
    <${ValueInput} row=${row} i=${i} t=${t} set=${set} />
    <button type="button" class="small-button" data-remove-row=${i} onClick=${onRemove}
      aria-label=${t('admin.segments.removeCondition', { n: i + 1 })}>${t('admin.delete')}</button>
    ${problem && html`<p class="admin-error" id=${errId} role="alert">${t(`admin.segments.problem.${problem}`)}</p>`}
  </fieldset>`;
}

function SegmentForm({ api, me, lang, editing, onDone, onCancel }) {
  const t = (k, v) => tr(lang, k, v);
  const isNew = !editing;
  const [id, setId] = useState(editing?.id || '');
  const [name, setName] = useState(editing?.name || '');
  const [rows, setRows] = useState(() => (editing ? matchToRows(editing.match) : [emptyMatchRow('kind')]));
  const [problems, setProblems] = useState([]);
  const act = useAction();

  async function save(ev) {
    ev.preventDefault();
    const { match, errors } = rowsToMatch(rows);
    setProblems(errors);
    if (errors.length) return;
    const sid = (isNew ? id.trim() : editing.id) || newId();
    const rec = await act.run(() =>
      api.request('PUT', orgPath(me, `/segments/${encodeURIComponent(sid)}`), { name: name.trim() || sid, match }));
    if (rec) onDone(rec);
  }

  const problemOf = (i) => problems.find((p) => p.row === i)?.problem;
  return html`<form class="admin-form admin-card" id="segment-form" onSubmit=${save} novalidate aria-labelledby="segment-form-title">
    <h3 id="segment-form-title">${isNew ? t('admin.segments.new') : t('admin.segments.editing', { name: editing.name })}</h3>
    <div class="admin-grid">
      <div class="admin-field">
        <label for="segment-name">${t('admin.segments.name')}</label>
        <input id="segment-name" value=${name} autocomplete="off" onInput=${(e) => setName(e.currentTarget.value)} />
      </div>
      ${isNew && html`<div class="admin-field">
        <label for="segment-id">${t('admin.segments.id')}</label>
        <input id="segment-id" value=${id} autocomplete="off" aria-describedby="segment-id-hint"
          onInput=${(e) => setId(e.currentTarget.value)} />
        <p class="admin-hint" id="segment-id-hint">${t('admin.segments.idHint')}</p>
      </div>`}
    </div>
    <p class="admin-hint">${t('admin.segments.allMustHold')}</p>
    ${rows.map((row, i) => html`<${MatchRow} key=${i} row=${row} i=${i} t=${t} problem=${problemOf(i)}
      onChange=${(r) => setRows(rows.map((x, j) => (j === i ? r : x)))}
      onRemove=${() => setRows(rows.filter((_, j) => j !== i))} />`)}
    <div class="admin-actions">
      <button type="button" class="small-button" id="segment-add-row" onClick=${() => setRows([...rows, emptyMatchRow('company')])}>
        ${t('admin.segments.addCondition')}</button>
    </div>
    <${SaveCancel} act=${act} lang=${lang} errId="segment-form-error" onCancel=${onCancel} />
  </form>`;
}

function Members({ api, me, lang, segment }) {
  const t = (k, v) => tr(lang, k, v);
  const pager = usePager();
  const cursor = pager.cursor ? `&cursor=${encodeURIComponent(pager.cursor)}` : '';
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/segments/${encodeURIComponent(segment.id)}/contacts?limit=25${cursor}`)),
    [me.org, segment.id, pager.cursor],
  );
  const contacts = data?.contacts || [];
  const caption = t('admin.segments.membersOf', { name: segment.name });
  return html`<div class="admin-card admin-block" id="segment-members" aria-label=${caption} role="region">
    <h3>${caption}</h3>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="segment-members-error" />
    ${data && !contacts.length && html`<p class="admin-muted" id="segment-members-none">${t('admin.segments.noMembers')}</p>`}
    ${contacts.length > 0 && html`<${ContactsTable} lang=${lang} contacts=${contacts} id="segment-members-table" caption=${caption} />`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id="segment-members-pager" />
  </div>`;
}

function SendForm({ api, me, lang, segment }) {
  const t = (k, v) => tr(lang, k, v);
  const { data: templates, error: loadError } = useLoad(() => loadTemplates(api, me), [me.org]);
  const emails = (templates || []).filter((x) => x.channel === 'email');
  const [template, setTemplate] = useState('');
  const [rows, setRows] = useState(() => [emptyDataRow()]);
  const [key, setKey] = useState(() => newIdempotencyKey('mass'));
  const { fanout, setFanout, error: pollError } = useFanout(api, me);
  const act = useAction();
  const chosen = template || emails[0]?.id || '';

  async function send(ev) {
    ev.preventDefault();
    const out = await act.run(() => api.request('POST', orgPath(me, '/notifications'), {
      channel: 'email', kind: 'mass', template: chosen, to: { segment: segment.id }, data: dataFromRows(rows), idempotency_key: key,
    }));
    if (out) setFanout(out);
  }

  const finished = fanout && fanoutProgress(fanout).finished;
  return html`<form class="admin-form admin-card" id="segment-send" onSubmit=${send} novalidate aria-labelledby="segment-send-title">
    <h3 id="segment-send-title">${t('admin.segments.sendTitle', { name: segment.name })}</h3>
    <p class="admin-hint" id="segment-send-hint">${t('admin.segments.sendHint')}</p>
    <${ErrorNote} error=${loadError} lang=${lang} />
    <div class="admin-field">
      <label for="segment-send-template">${t('admin.segments.emailTemplate')}</label>
      <select id="segment-send-template" value=${chosen} aria-describedby="segment-send-hint"
        onChange=${(e) => setTemplate(e.currentTarget.value)} disabled=${Boolean(fanout && !finished)}>
        ${emails.map((x) => html`<option value=${x.id}>${x.name} (${x.id})</option>`)}
      </select>
    </div>
    ${templates && !emails.length && html`<p class="admin-muted">${t('admin.segments.noEmailTemplates')}</p>`}
    <${DataRows} lang=${lang} rows=${rows} setRows=${setRows} idPrefix="segment-send-data" hint=${t('admin.segments.dataHint')}
      disabled=${Boolean(fanout && !finished)} />
    <${ErrorNote} error=${act.error} lang=${lang} id="segment-send-error" />
    <div class="admin-actions">
      ${!fanout && html`<button type="submit" class="primary-button" id="segment-send-submit" disabled=${act.busy || !chosen}
        aria-describedby=${act.error ? 'segment-send-error' : undefined}>${t('admin.segments.send')}</button>`}
      ${finished && html`<button type="button" class="text-button" onClick=${() => { setFanout(null); setKey(newIdempotencyKey('mass')); }}>
        ${t('admin.segments.sendAgain')}</button>`}
    </div>
    ${fanout && html`<${FanoutProgress} lang=${lang} fanout=${fanout} idPrefix="segment-send" />`}
    <${ErrorNote} error=${pollError} lang=${lang} id="segment-send-poll-error" />
  </form>`;
}

function Row({ api, me, lang, seg, open, onOpen, onEdit, onDeleted }) {
  const t = (k, v) => tr(lang, k, v);
  const button = (what, label) => html`<button type="button" class=${open === what ? 'small-button is-primary' : 'small-button'}
    data-action=${what} aria-expanded=${open === what ? 'true' : 'false'} aria-label=${`${label}: ${seg.name}`}
    onClick=${() => onOpen(open === what ? null : what)}>${label}</button>`;
  return html`<tr data-segment=${seg.id}>
    <th scope="row">${seg.name}<span class="admin-muted admin-small admin-block-line admin-mono">${seg.id}</span></th>
    <td>${matchText(seg.match, t)}</td>
    <td class="admin-row-actions">
      ${button('members', t('admin.segments.members'))}
      ${button('send', t('admin.segments.sendMail'))}
      <button type="button" class="small-button" data-action="edit" aria-label=${`${t('admin.edit')}: ${seg.name}`}
        onClick=${() => onEdit(seg)}>${t('admin.edit')}</button>
      <${ConfirmAction} lang=${lang} label=${t('admin.delete')} errId=${`segment-${seg.id}-error`}
        question=${t('admin.segments.deleteQ', { name: seg.name })}
        request=${() => api.request('DELETE', orgPath(me, `/segments/${encodeURIComponent(seg.id)}`))} onDone=${() => onDeleted(seg.id)} />
    </td>
  </tr>`;
}

export function SegmentsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [editing, setEditing] = useState(undefined);
  const [open, setOpen] = useState({ id: null, what: null });
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/segments')), [me.org]);
  const list = data?.segments || [];
  const current = list.find((s) => s.id === open.id);
  const newButton = html`<button type="button" class="primary-button" id="segment-new" onClick=${() => setEditing(null)}>${t('admin.segments.new')}</button>`;
  return html`<${ViewFrame} id="segments" title=${t('admin.segments.title')} actions=${newButton}>
    ${editing !== undefined && html`<${SegmentForm} key=${editing?.id || 'new'} api=${api} me=${me} lang=${lang} editing=${editing}
      onCancel=${() => setEditing(undefined)} onDone=${(rec) => { setEditing(undefined); setOpen({ id: rec.id, what: 'members' }); reload(); }} />`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${data && !list.length && html`<p class="admin-muted" id="segments-none">${t('admin.segments.none')}</p>`}
    ${list.length > 0 && html`<${DataTable} id="segments-table" caption=${t('admin.segments.caption')}
      head=${[t('admin.segments.name'), t('admin.segments.match'), t('admin.templates.actions')]}>
      ${list.map((seg) => html`<${Row} key=${seg.id} api=${api} me=${me} lang=${lang} seg=${seg}
          open=${open.id === seg.id ? open.what : null} onOpen=${(what) => setOpen({ id: seg.id, what })}
          onEdit=${(s) => setEditing(s)} onDeleted=${() => { setOpen({ id: null, what: null }); reload(); }} />`)}<//>`}
    ${current && open.what === 'members' && html`<${Members} key=${`m-${current.id}-${JSON.stringify(current.match)}`} api=${api} me=${me} lang=${lang} segment=${current} />`}
    ${current && open.what === 'send' && html`<${SendForm} key=${`s-${current.id}`} api=${api} me=${me} lang=${lang} segment=${current} />`}
  <//>`;
}
