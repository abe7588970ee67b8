// Call flows: the list (number, the live on/off switch, version, "draft differs" badge) and the
// editor of one flow (./flow_editor.js). The switch is live: it PUTs the stored draft with the new
// `enabled`, as the API requires; a 409 `number_has_flow` shows in that row.
import { html, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, useLoad } from './common.js';
import { FlowEditor, FlowSwitch } from './flow_editor.js';
import { tr } from './logic.js';

function FlowRow({ api, me, lang, flow, onOpen, onChanged }) {
  const t = (k, v) => tr(lang, k, v);
  return html`<tr data-flow=${flow.id} data-enabled=${String(flow.enabled)}>
    <th scope="row">
      <button type="button" class="admin-link-button" data-action="open" onClick=${() => onOpen(flow.id)}
        aria-label=${t('admin.flows.openOne', { name: flow.name })}>${flow.name}</button>
      ${flow.description && html`<span class="admin-small admin-muted">${flow.description}</span>`}
    </th>
    <td class="admin-nowrap">${flow.number}</td>
    <td><${FlowSwitch} api=${api} me=${me} lang=${lang} flow=${flow} idBase=${`flow-${flow.id}`} onChanged=${onChanged} /></td>
    <td class="num">${flow.version ? `v${flow.version}` : t('admin.flows.unpublished')}</td>
    <td>${flow.draft_differs && html`<span class="admin-chip chip-pending" data-badge="draft-differs">${t('admin.flows.draftDiffers')}</span>`}</td>
  </tr>`;
}

export function FlowsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [open, setOpen] = useState(undefined); // undefined: the list; null: a new flow; an id: that flow
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/call-flows')), [me.org, open]);
  const [local, setLocal] = useState({});
  const flows = (data?.flows || []).map((f) => local[f.id] || f);
  const changed = (rec) => setLocal((m) => ({ ...m, [rec.id]: rec }));

  if (open !== undefined) {
    return html`<${FlowEditor} key=${open || 'new'} api=${api} me=${me} lang=${lang} flowId=${open}
      onBack=${() => { setLocal({}); setOpen(undefined); }} />`;
  }
  const newButton = html`<button type="button" class="primary-button" id="flow-new" onClick=${() => setOpen(null)}>
    ${t('admin.flows.new')}</button>`;
  return html`<${ViewFrame} id="call-flows" title=${t('admin.flows.title')} actions=${newButton}>
    <p class="admin-hint">${t('admin.flows.hint')}</p>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="flows-error" />
    ${data && !flows.length && html`<p class="admin-muted" id="flows-none">${t('admin.flows.none')}</p>`}
    ${flows.length > 0 && html`<${DataTable} id="flows-table" caption=${t('admin.flows.caption')}
      head=${[t('admin.flow.name'), t('admin.flow.number'), t('admin.flows.live'), [t('admin.flows.version'), 'num'],
        t('admin.flows.state')]}>
      ${flows.map((f) => html`<${FlowRow} key=${f.id} api=${api} me=${me} lang=${lang} flow=${f}
          onOpen=${setOpen} onChanged=${(rec) => { changed(rec); reload(); }} />`)}<//>`}
  <//>`;
}
