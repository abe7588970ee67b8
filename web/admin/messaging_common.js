// Shared by the messaging admin views: the template and segment pickers' lists, and the merge data
// rows of a send (the SMS-notification trigger, the mass mail to a segment).
import { html } from '../ui.js';
import { orgPath } from './common.js';
import { tr } from './logic.js';
import { emptyDataRow } from './messaging_logic.js';

/** The org's templates (for pickers). */
export async function loadTemplates(api, me) {
  const { templates } = await api.request('GET', orgPath(me, '/templates'));
  return templates || [];
}

/** The org's segments (for pickers). */
export async function loadSegments(api, me) {
  const { segments } = await api.request('GET', orgPath(me, '/segments'));
  return segments || [];
}

/** Merge data as rows of name + value (`dataFromRows` makes the request's `data`), and "Add a field".
 *  Ids `<idPrefix>-<i>-name` / `-value`; `hint` (optional) is shown under the legend. */
export function DataRows({ lang, rows, setRows, idPrefix = 'data', hint = '', disabled = false }) {
  const t = (k, v) => tr(lang, k, v);
  const hintId = hint ? `${idPrefix}-hint` : undefined;
  const set = (i, key) => (e) => {
    const v = e.currentTarget.value;
    setRows(rows.map((x, j) => (j === i ? { ...x, [key]: v } : x)));
  };
  return html`<fieldset class="admin-block admin-data-rows" id=${`${idPrefix}-rows`} aria-describedby=${hintId} disabled=${disabled}>
    <legend>${t('admin.smsn.data')}</legend>
    ${hint && html`<p class="admin-hint" id=${hintId}>${hint}</p>`}
    ${rows.map((r, i) => html`<div class="admin-grid" key=${i} data-data-row=${i}>
      <div class="admin-field"><label for=${`${idPrefix}-${i}-name`}>${t('admin.smsn.dataName')}</label>
        <input id=${`${idPrefix}-${i}-name`} value=${r.name} autocomplete="off" onInput=${set(i, 'name')} /></div>
      <div class="admin-field"><label for=${`${idPrefix}-${i}-value`}>${t('admin.segments.value')}</label>
        <input id=${`${idPrefix}-${i}-value`} value=${r.value} autocomplete="off" onInput=${set(i, 'value')} /></div>
    </div>`)}
    <button type="button" class="small-button" id=${`${idPrefix}-add`}
      onClick=${() => setRows([...rows, emptyDataRow()])}>${t('admin.smsn.addData')}</button>
  </fieldset>`;
}
