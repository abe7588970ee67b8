// The editor of one call flow: name / description / number, the steps as a list (add, move up and
// down, remove; each type with its own small form; `hours` with open windows and a nested
// `closed` list), save the draft (the API's 400 shown at the step its `detail` path names),
// publish, the live switch, and the saved draft beside the published version with the
// differences marked. Pure parts: ./telephony_logic.js.
import { html, useEffect, useRef, useState } from '../ui.js';
import { addLeaveGuard, mayLeave } from '../leave.js';
import { ConfirmButton, DataTable, ErrorNote, Loading, orgPath, useAction, useLoad } from './common.js';
import { tr } from './logic.js';
import {
  DAYS, SAY_LANGUAGES, STEP_TYPES, STRATEGIES, addStep, compareFlows, draftKey, errorTarget, flowBody, idFrom,
  isUnsaved, moveStep, newStep, removeStep, samePath, stepKind, stepLabel, stepPathName, switchBody, updateStep, withKeys,
} from './telephony_logic.js';

const FLOW_FIELDS = ['name', 'description', 'number'];

/** The on/off switch of a flow (a checkbox with role=switch); `onChanged(rec)` with the API's record. */
export function FlowSwitch({ api, me, lang, flow, onChanged, idBase }) {
  const t = (k, v) => tr(lang, k, v);
  const act = useAction();
  const errId = `${idBase}-switch-error`;
  async function flip(e) {
    const enabled = e.currentTarget.checked;
    e.currentTarget.checked = flow.enabled; // shown as the API decides, not as clicked
    const rec = await act.run(() => api.request('PUT', orgPath(me, `/call-flows/${encodeURIComponent(flow.id)}`), switchBody(flow, enabled)));
    if (rec) onChanged(rec);
  }
  return html`<div class="admin-switch-wrap">
    <label class="admin-switch">
      <input type="checkbox" role="switch" id=${`${idBase}-switch`} data-action="switch" checked=${flow.enabled}
        disabled=${act.busy} aria-describedby=${act.error ? errId : undefined} onChange=${flip} />
      <span>${flow.enabled ? t('admin.flows.on') : t('admin.flows.off')}</span>
      <span class="sr-only">${t('admin.flows.switchFor', { name: flow.name })}</span>
    </label>
    <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
  </div>`;
}

function formOf(rec) {
  const d = rec?.draft || {};
  return { name: d.name || '', description: d.description || '', number: d.number || '', steps: withKeys(d.steps || []) };
}

function LanguageSelect({ id, value, onChange, t }) {
  return html`<div class="admin-field">
    <label for=${id}>${t('admin.flow.language')}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${SAY_LANGUAGES.map((l) => html`<option value=${l}>${l}</option>`)}
    </select>
  </div>`;
}

function SayForm({ step, base, edit, t }) {
  return html`<div class="admin-grid">
    <div class="admin-field flow-wide">
      <label for=${`${base}-say`}>${t('admin.flow.sayText')}</label>
      <textarea id=${`${base}-say`} rows="2" value=${step.say} data-field="say"
        onInput=${(e) => { const v = e.currentTarget.value; edit((s) => ({ ...s, say: v })); }}></textarea>
    </div>
    <${LanguageSelect} id=${`${base}-language`} value=${step.language || 'ja-JP'} t=${t}
      onChange=${(v) => edit((s) => ({ ...s, language: v }))} />
  </div>`;
}

function HoursForm({ step, path, base, edit, t, ctx }) {
  const open = step.hours.open || [];
  const setWindows = (fn) => edit((s) => ({ ...s, hours: { ...s.hours, open: fn(s.hours.open || []) } }));
  const setWindow = (i, patch) => setWindows((ws) => ws.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  return html`<div class="flow-hours">
    ${open.map((w, i) => html`<fieldset class="flow-window" key=${i} data-window=${i}>
      <legend>${t('admin.flow.window', { n: i + 1 })}</legend>
      <div class="flow-days" role="group" aria-label=${t('admin.flow.days')}>
        ${DAYS.map((d) => html`<label class="admin-check" key=${d}>
          <input type="checkbox" value=${d} data-day=${d} checked=${(w.days || []).includes(d)}
            onChange=${(e) => {
              const on = e.currentTarget.checked;
              const days = on ? DAYS.filter((x) => x === d || (w.days || []).includes(x)) : (w.days || []).filter((x) => x !== d);
              setWindow(i, { days });
            }} />
          <span>${t(`admin.flow.day.${d}`)}</span>
        </label>`)}
      </div>
      <div class="admin-grid">
        <div class="admin-field">
          <label for=${`${base}-w${i}-from`}>${t('admin.flow.from')}</label>
          <input type="time" id=${`${base}-w${i}-from`} data-field="from" value=${w.from}
            onInput=${(e) => setWindow(i, { from: e.currentTarget.value })} />
        </div>
        <div class="admin-field">
          <label for=${`${base}-w${i}-to`}>${t('admin.flow.to')}</label>
          <input type="time" id=${`${base}-w${i}-to`} data-field="to" value=${w.to}
            onInput=${(e) => setWindow(i, { to: e.currentTarget.value })} />
        </div>
      </div>
      ${open.length > 1 && html`<button type="button" class="small-button" data-action="remove-window"
        onClick=${() => setWindows((ws) => ws.filter((_, j) => j !== i))}>${t('admin.flow.removeWindow', { n: i + 1 })}</button>`}
    </fieldset>`)}
    <button type="button" class="small-button" data-action="add-window"
      onClick=${() => setWindows((ws) => [...ws, { days: ['sat'], from: '10:00', to: '17:00' }])}>${t('admin.flow.addWindow')}</button>
    <div class="flow-closed">
      <h5 id=${`${base}-closed-title`}>${t('admin.flow.closed')}</h5>
      <p class="admin-hint">${t('admin.flow.closedHint')}</p>
      <${StepList} steps=${step.hours.closed || []} listPath=${path} ctx=${ctx} labelledBy=${`${base}-closed-title`} />
    </div>
  </div>`;
}

function RingForm({ step, base, edit, t, ctx }) {
  const byGroup = 'group' in (step.ring || {});
  const users = step.ring?.users || [];
  const knownGroup = !byGroup || !step.ring.group || ctx.groups.some((g) => g.id === step.ring.group);
  return html`<div class="flow-ring">
    <fieldset class="admin-segmented">
      <legend>${t('admin.flow.ringWho')}</legend>
      ${['users', 'group'].map((kind) => html`<label class=${(kind === 'group') === byGroup ? 'is-on' : ''} key=${kind}>
        <input type="radio" name=${`${base}-who`} value=${kind} data-who=${kind} checked=${(kind === 'group') === byGroup}
          onChange=${() => edit((s) => ({ ...s, ring: kind === 'group' ? { group: ctx.groups[0]?.id || '' } : { users: [] } }))} />
        ${t(`admin.flow.ringBy.${kind}`)}
      </label>`)}
    </fieldset>
    ${byGroup
      ? html`<div class="admin-field">
          <label for=${`${base}-group`}>${t('admin.flow.group')}</label>
          <select id=${`${base}-group`} data-field="group" value=${step.ring.group}
            onChange=${(e) => { const v = e.currentTarget.value; edit((s) => ({ ...s, ring: { group: v } })); }}>
            <option value="">${t('admin.flow.pick')}</option>
            ${ctx.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}
            ${!knownGroup && html`<option value=${step.ring.group}>${t('admin.flow.unknown', { id: step.ring.group })}</option>`}
          </select>
        </div>`
      : html`<fieldset class="admin-checks">
          <legend>${t('admin.flow.ringUsers')}</legend>
          ${ctx.users.map((u) => html`<label class="admin-check" key=${u.id}>
            <input type="checkbox" data-user=${u.id} checked=${users.includes(u.id)}
              onChange=${(e) => {
                const on = e.currentTarget.checked;
                edit((s) => {
                  const now = s.ring.users || [];
                  return { ...s, ring: { users: on ? [...now.filter((x) => x !== u.id), u.id] : now.filter((x) => x !== u.id) } };
                });
              }} />
            <span>${u.name || u.id}</span>
          </label>`)}
        </fieldset>`}
    <div class="admin-grid">
      <div class="admin-field">
        <label for=${`${base}-strategy`}>${t('admin.flow.strategy')}</label>
        <select id=${`${base}-strategy`} data-field="strategy" value=${step.strategy || 'simultaneous'}
          onChange=${(e) => { const v = e.currentTarget.value; edit((s) => ({ ...s, strategy: v })); }}>
          ${STRATEGIES.map((s) => html`<option value=${s}>${t(`admin.flow.strategy.${s}`)}</option>`)}
        </select>
      </div>
      <div class="admin-field">
        <label for=${`${base}-timeout`}>${t('admin.flow.timeout')}</label>
        <input id=${`${base}-timeout`} data-field="timeout" inputmode="numeric" autocomplete="off" value=${String(step.timeout ?? '')}
          onInput=${(e) => { const v = e.currentTarget.value; edit((s) => ({ ...s, timeout: v })); }} />
      </div>
    </div>
  </div>`;
}

function VoicemailForm({ step, base, edit, t, ctx }) {
  const vm = step.voicemail || {};
  const set = (patch) => edit((s) => ({ ...s, voicemail: { ...s.voicemail, ...patch } }));
  const known = !vm.user || ctx.users.some((u) => u.id === vm.user);
  return html`<div class="admin-grid">
    <div class="admin-field">
      <label for=${`${base}-vm-user`}>${t('admin.flow.vmUser')}</label>
      <select id=${`${base}-vm-user`} data-field="user" value=${vm.user || ''} onChange=${(e) => set({ user: e.currentTarget.value })}>
        <option value="">${t('admin.flow.pick')}</option>
        ${ctx.users.map((u) => html`<option value=${u.id}>${u.name || u.id}</option>`)}
        ${!known && html`<option value=${vm.user}>${t('admin.flow.unknown', { id: vm.user })}</option>`}
      </select>
    </div>
    <div class="admin-field">
      <label for=${`${base}-vm-max`}>${t('admin.flow.maxLength')}</label>
      <input id=${`${base}-vm-max`} data-field="max_length" inputmode="numeric" autocomplete="off"
        value=${String(vm.max_length ?? '')} onInput=${(e) => set({ max_length: e.currentTarget.value })} />
    </div>
    <div class="admin-field flow-wide">
      <label for=${`${base}-vm-prompt`}>${t('admin.flow.prompt')}</label>
      <textarea id=${`${base}-vm-prompt`} rows="2" data-field="prompt" value=${vm.prompt || ''}
        onInput=${(e) => set({ prompt: e.currentTarget.value })}></textarea>
    </div>
    <${LanguageSelect} id=${`${base}-vm-language`} value=${vm.language || 'ja-JP'} t=${t}
      onChange=${(v) => set({ language: v })} />
  </div>`;
}

function QueueForm({ step, base, edit, t, ctx }) {
  const q = step.queue || {};
  const set = (patch) => edit((s) => ({ ...s, queue: { ...s.queue, ...patch } }));
  const known = !q.group || ctx.groups.some((g) => g.id === q.group);
  const field = (key, id, label, attrs = {}) => html`<div class="admin-field">
      <label for=${id}>${t(label)}</label>
      <input id=${id} data-field=${key} autocomplete="off" value=${String(q[key] ?? '')} ...${attrs}
        onInput=${(e) => set({ [key]: e.currentTarget.value })} />
    </div>`;
  return html`<div class="admin-grid">
    <p class="admin-hint flow-wide">${t('admin.flow.queueHint')}</p>
    <div class="admin-field">
      <label for=${`${base}-q-group`}>${t('admin.flow.queueGroup')}</label>
      <select id=${`${base}-q-group`} data-field="group" value=${q.group || ''} onChange=${(e) => set({ group: e.currentTarget.value })}>
        <option value="">${t('admin.flow.pick')}</option>
        ${ctx.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}
        ${!known && html`<option value=${q.group}>${t('admin.flow.unknown', { id: q.group })}</option>`}
      </select>
    </div>
    ${field('max_wait', `${base}-q-max-wait`, 'admin.flow.maxWait', { inputmode: 'numeric' })}
    ${field('timeout', `${base}-q-timeout`, 'admin.flow.queueTimeout', { inputmode: 'numeric' })}
    ${field('hold_music', `${base}-q-music`, 'admin.flow.holdMusic', { type: 'url', inputmode: 'url', placeholder: 'https://' })}
    <div class="admin-field flow-wide">
      <label for=${`${base}-q-message`}>${t('admin.flow.queueMessage')}</label>
      <textarea id=${`${base}-q-message`} rows="2" data-field="message" value=${q.message || ''}
        onInput=${(e) => set({ message: e.currentTarget.value })}></textarea>
    </div>
    <div class="admin-field flow-wide">
      <label for=${`${base}-q-whisper`}>${t('admin.flow.queueWhisper')}</label>
      <input id=${`${base}-q-whisper`} data-field="whisper" autocomplete="off" maxlength="300" value=${q.whisper || ''}
        placeholder=${t('admin.flow.queueWhisperDefault')} onInput=${(e) => set({ whisper: e.currentTarget.value })} />
    </div>
    <${LanguageSelect} id=${`${base}-q-language`} value=${q.language || 'ja-JP'} t=${t}
      onChange=${(v) => set({ language: v })} />
  </div>`;
}

const FORMS = { say: SayForm, hours: HoursForm, ring: RingForm, queue: QueueForm, voicemail: VoicemailForm };

function StepCard({ step, path, count, ctx }) {
  const t = ctx.t;
  const kind = stepKind(step);
  const base = `step-${path.join('-')}`;
  const label = stepLabel(path);
  const at = path[path.length - 1];
  const invalid = ctx.target?.step && samePath(ctx.target.step, path);
  const edit = (fn) => ctx.setSteps((steps) => updateStep(steps, path, fn));
  const Form = FORMS[kind];
  const errId = `${base}-error`;
  return html`<li class=${`flow-step${invalid ? ' is-invalid' : ''}`} data-step=${stepPathName(path)} data-key=${step._k}
      data-kind=${kind} aria-invalid=${invalid ? 'true' : undefined} aria-describedby=${invalid ? errId : undefined}>
    <div class="flow-step-head">
      <h4 tabindex="-1" id=${`${base}-title`}>${t('admin.flow.stepTitle', { n: label, kind: t(`admin.flow.kind.${kind}`) })}</h4>
      <div class="admin-actions">
        <button type="button" class="small-button" data-move="up" disabled=${at === 0}
          aria-label=${t('admin.flow.moveUp', { n: label })} onClick=${() => ctx.move(path, -1, step._k, 'up')}>↑</button>
        <button type="button" class="small-button" data-move="down" disabled=${at === count - 1}
          aria-label=${t('admin.flow.moveDown', { n: label })} onClick=${() => ctx.move(path, 1, step._k, 'down')}>↓</button>
        <button type="button" class="small-button" data-action="remove-step"
          aria-label=${t('admin.flow.remove', { n: label })} onClick=${() => ctx.remove(path)}>${t('admin.delete')}</button>
      </div>
    </div>
    ${invalid && html`<${ErrorNote} error=${ctx.error} lang=${ctx.lang} id=${errId} class="flow-step-error" />`}
    ${Form ? html`<${Form} step=${step} path=${path} base=${base} edit=${edit} t=${t} ctx=${ctx} />`
      : html`<p class="admin-hint">${t('admin.flow.hangupHint')}</p>`}
  </li>`;
}

function StepList({ steps, listPath, ctx, labelledBy }) {
  const t = ctx.t;
  const [kind, setKind] = useState('say');
  const base = `add-${listPath.join('-') || 'top'}`;
  return html`<div class="flow-steps" data-list=${listPath.length ? stepPathName(listPath) + '.hours.closed' : 'steps'}>
    ${steps.length > 0
      ? html`<ol class="flow-step-list" aria-labelledby=${labelledBy}>
          ${steps.map((s, i) => html`<${StepCard} key=${s._k} step=${s} path=${[...listPath, i]} count=${steps.length} ctx=${ctx} />`)}
        </ol>`
      : html`<p class="admin-muted">${t('admin.flow.noSteps')}</p>`}
    <div class="flow-add">
      <div class="admin-field">
        <label for=${`${base}-kind`}>${t('admin.flow.addKind')}</label>
        <select id=${`${base}-kind`} value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          ${STEP_TYPES.map((k) => html`<option value=${k}>${t(`admin.flow.kind.${k}`)}</option>`)}
        </select>
      </div>
      <button type="button" class="small-button is-primary" data-action="add-step" id=${`${base}-button`}
        onClick=${() => ctx.add(listPath, kind)}>${t('admin.flow.addStep')}</button>
    </div>
  </div>`;
}

function Compare({ rec, lang, names }) {
  const t = (k, v) => tr(lang, k, v);
  const rows = compareFlows(rec.draft, rec.published, lang, names);
  const changes = rows.filter((r) => r.change !== 'same').length;
  return html`<div class="admin-block" id="flow-compare">
    <h3 id="flow-compare-title">${t('admin.flow.compare')}</h3>
    <p class="admin-muted" role="status">${!rec.published ? t('admin.flow.neverPublished')
      : changes ? t('admin.flow.differences', { n: changes }) : t('admin.flow.noDifferences')}</p>
    <${DataTable} id="flow-compare-table" extraClass="flow-compare" label=${t('admin.flow.compare')}
      caption=${t('admin.flow.compareCaption', { version: rec.version || 0 })}
      head=${[t('admin.flow.item'), t('admin.flow.draft'), t('admin.flow.published', { version: rec.version || 0 }), t('admin.flow.change')]}>
      ${rows.map((r) => html`<tr key=${r.key} data-row=${r.key} data-change=${r.change}
          class=${r.change === 'same' ? '' : 'is-changed'}>
        <th scope="row" style=${r.depth ? `padding-left: ${12 + 14 * r.depth}px` : undefined}>${r.label}</th>
        <td>${r.draft ?? '—'}</td>
        <td>${r.published ?? '—'}</td>
        <td>${r.change !== 'same' && html`<span class=${`admin-chip chip-${r.change}`}>${t(`admin.flow.change.${r.change}`)}</span>`}</td>
      </tr>`)}<//>
  </div>`;
}

async function loadAll(api, me, flowId) {
  const get = (rest) => api.request('GET', orgPath(me, rest));
  const [rec, numbers, users, groups] = await Promise.all([
    flowId ? get(`/call-flows/${encodeURIComponent(flowId)}`) : Promise.resolve(null),
    get('/numbers?limit=1000'),
    get('/users?limit=1000'),
    get('/groups'),
  ]);
  return { rec, numbers: numbers.numbers || [], users: users.users || [], groups: groups.groups || [] };
}

export function FlowEditor({ api, me, lang, flowId, onBack }) {
  const t = (k, v) => tr(lang, k, v);
  const { data, error: loadError, loading } = useLoad(() => loadAll(api, me, flowId), [me.org, flowId]);
  const [rec, setRec] = useState(null);
  const [id, setId] = useState(flowId);
  const [form, setForm] = useState(null);
  const act = useAction();
  const { error, setError } = act;
  const [focus, setFocus] = useState(null); // {key, what} to focus after the next render
  const root = useRef(null);
  // The draft as last loaded or saved ({key: draftKey, form}): the editor differs → unsaved changes,
  // and leaving (another view, closing the tab, "back") asks first; saving or discarding clears it.
  const [saved, setSaved] = useState(null);
  const unsaved = isUnsaved(form, saved?.key);
  const guard = useRef({ unsaved, lang });
  guard.current = { unsaved, lang };

  useEffect(() => addLeaveGuard(() => (guard.current.unsaved ? tr(guard.current.lang, 'admin.flow.leaveQ') : '')), []);

  useEffect(() => {
    if (!data) return;
    const loaded = data.rec ? formOf(data.rec) : { name: '', description: '', number: data.numbers[0]?.phone_number || '', steps: [] };
    setRec(data.rec);
    setForm(loaded);
    setSaved({ key: draftKey(loaded), form: loaded });
  }, [data]);

  useEffect(() => {
    if (!focus || !root.current) return;
    const card = root.current.querySelector(`[data-key="${focus.key}"]`);
    let el = null;
    if (card && focus.what === 'up') el = card.querySelector('[data-move="up"]:not([disabled])') || card.querySelector('[data-move="down"]');
    else if (card && focus.what === 'down') el = card.querySelector('[data-move="down"]:not([disabled])') || card.querySelector('[data-move="up"]');
    else if (card) el = card.querySelector('h4');
    else if (focus.what === 'field') el = root.current.querySelector(`#flow-${focus.key}`);
    else if (focus.what === 'error') el = root.current.querySelector('#flow-error');
    if (el) {
      el.focus();
      // centred: not under the page's sticky header; a moved step stays where the eye is
      el.scrollIntoView?.({ block: focus.what === 'up' || focus.what === 'down' ? 'nearest' : 'center' });
    }
    setFocus(null);
  }, [focus]);

  if (loadError) return html`<section class="admin-panel" id="admin-flow-editor"><${ErrorNote} error=${loadError} lang=${lang} /></section>`;
  if ((loading && !data) || !form) return html`<${Loading} lang=${lang} />`;

  const target = error ? errorTarget(error.detail) : null;
  const setSteps = (fn) => setForm((f) => ({ ...f, steps: fn(f.steps) }));
  const stepOf = (path) => {
    let list = form.steps;
    let step;
    for (const i of path) {
      step = list[i];
      list = step?.hours?.closed;
    }
    return step;
  };
  const ctx = {
    t,
    lang,
    users: data.users,
    groups: data.groups,
    target: target?.step ? target : null,
    error,
    setSteps,
    add(listPath, kind) {
      const step = newStep(kind, lang);
      setSteps((steps) => addStep(steps, listPath, step));
      setFocus({ key: step._k, what: 'heading' });
    },
    move(path, delta, key, what) {
      setSteps((steps) => moveStep(steps, path, delta).steps);
      setFocus({ key, what });
      // an error placed at a step stays with it only until the list changes
      if (error && target?.step) setError(null);
    },
    remove(path) {
      const next = path[path.length - 1] > 0 ? [...path.slice(0, -1), path[path.length - 1] - 1] : null;
      const neighbour = next ? stepOf(next) : null;
      setSteps((steps) => removeStep(steps, path));
      if (error && target?.step) setError(null);
      setFocus(neighbour ? { key: neighbour._k, what: 'heading' } : null);
    },
  };

  async function save({ publish = false } = {}) {
    const flow = id || idFrom('', 'flow');
    const path = orgPath(me, `/call-flows/${encodeURIComponent(flow)}`);
    const sent = form;
    const next = await act.run(async () => {
      let out = await api.request('PUT', path, flowBody(sent));
      setId(flow);
      setSaved({ key: draftKey(sent), form: sent });
      if (publish) out = await api.request('POST', `${path}/publish`);
      return out;
    }, (out) => (publish ? t('admin.flow.publishedDone', { version: out.version }) : t('admin.flow.savedDone')), (err) => {
      const where = errorTarget(err.detail);
      if (where?.step) setFocus({ key: stepOf(where.step)?._k, what: 'heading' });
      else if (where && FLOW_FIELDS.includes(where.field)) setFocus({ key: where.field, what: 'field' });
      else setFocus({ key: null, what: 'error' });
    });
    if (next) setRec(next);
  }

  const fieldError = target && !target.step && FLOW_FIELDS.includes(target.field) ? target.field : null;
  const stepError = Boolean(target?.step && stepOf(target.step));
  const general = error && !fieldError && !stepError;
  const names = {
    users: Object.fromEntries(data.users.map((u) => [u.id, u.name || u.id])),
    groups: Object.fromEntries(data.groups.map((g) => [g.id, g.name || g.id])),
  };
  const field = (key, input) => html`<div class="admin-field">
    <label for=${`flow-${key}`}>${t(`admin.flow.${key}`)}</label>
    ${input({ id: `flow-${key}`, 'aria-invalid': fieldError === key ? 'true' : 'false',
      'aria-describedby': fieldError === key ? `flow-${key}-error` : undefined })}
    ${fieldError === key && html`<${ErrorNote} error=${error} lang=${lang} id=${`flow-${key}-error`} />`}
  </div>`;
  const set = (key) => (e) => { const v = e.currentTarget.value; setForm((f) => ({ ...f, [key]: v })); };
  const knownNumber = !form.number || data.numbers.some((n) => n.phone_number === form.number);
  const title = rec ? t('admin.flow.editing', { name: rec.name }) : t('admin.flow.new');

  return html`<section class="admin-panel" id="admin-flow-editor" aria-labelledby="flow-editor-title" ref=${root}>
    <div class="admin-panel-head">
      <h2 id="flow-editor-title">${title}</h2>
      <button type="button" class="text-button" id="flow-back"
        onClick=${() => mayLeave((q) => window.confirm(q)) && onBack()}>${t('admin.flow.back')}</button>
    </div>
    ${rec && html`<div class="admin-card flow-live" id="flow-live">
      <${FlowSwitch} api=${api} me=${me} lang=${lang} flow=${rec} idBase="flow-editor" onChanged=${setRec} />
      <span class="admin-muted" id="flow-version">${rec.version ? t('admin.flow.liveVersion', { version: rec.version }) : t('admin.flows.unpublished')}</span>
      ${rec.draft_differs && html`<span class="admin-chip chip-pending" data-badge="draft-differs">${t('admin.flows.draftDiffers')}</span>`}
    </div>`}
    <form class="admin-form flow-form" id="flow-form" novalidate onSubmit=${(e) => { e.preventDefault(); save(); }}>
      <div class="admin-grid">
        ${field('name', (a) => html`<input ...${a} value=${form.name} autocomplete="off" onInput=${set('name')} />`)}
        ${field('number', (a) => html`<select ...${a} value=${form.number} onChange=${set('number')}>
          <option value="">${t('admin.flow.pick')}</option>
          ${data.numbers.map((n) => html`<option value=${n.phone_number}>${n.phone_number}</option>`)}
          ${!knownNumber && html`<option value=${form.number}>${t('admin.flow.unknown', { id: form.number })}</option>`}
        </select>`)}
      </div>
      ${field('description', (a) => html`<textarea ...${a} rows="2" value=${form.description} onInput=${set('description')}></textarea>`)}
      <h3 id="flow-steps-title">${t('admin.flow.steps')}</h3>
      <p class="admin-hint">${t('admin.flow.stepsHint')}</p>
      ${target?.field === 'steps' && html`<${ErrorNote} error=${error} lang=${lang} id="flow-steps-error" />`}
      <${StepList} steps=${form.steps} listPath=${[]} ctx=${ctx} labelledBy="flow-steps-title" />
      ${general && target?.field !== 'steps' && html`<${ErrorNote} error=${error} lang=${lang} id="flow-error" />`}
      ${stepError && html`<p class="admin-hint" role="status" id="flow-error-where">${t('admin.flow.errorAt', { n: stepLabel(target.step) })}</p>`}
      <div class="admin-actions flow-save">
        <button type="submit" class="primary-button" id="flow-save" disabled=${act.busy}>${t('admin.flow.save')}</button>
        <button type="button" class="small-button is-primary" id="flow-publish" disabled=${act.busy}
          aria-describedby="flow-publish-hint" onClick=${() => save({ publish: true })}>${t('admin.flow.publish')}</button>
        ${unsaved && html`<${ConfirmButton} lang=${lang} id="flow-discard" action="discard" label=${t('admin.flow.discard')}
          question=${t('admin.flow.discardQ')} busy=${act.busy}
          onConfirm=${() => { setForm(saved.form); setError(null); act.setOk(''); }} />`}
        <span role="status" class="admin-ok" id="flow-done">${act.ok}</span>
        ${unsaved && html`<span class="admin-chip chip-pending" id="flow-unsaved" data-badge="unsaved">${t('admin.flow.unsaved')}</span>`}
      </div>
      <p class="admin-hint" id="flow-publish-hint">${t('admin.flow.publishHint')}</p>
    </form>
    ${rec && html`<${Compare} rec=${rec} lang=${lang} names=${names} />`}
  </section>`;
}
