// Numbers: the org's Twilio numbers (release with a confirm step; a 409 `number_in_use` names the
// flow that answers on it; a number whose release Twilio did not answer shows a "releasing" chip
// and a "Finish release" button, which sends the DELETE again), and a search of the numbers Twilio
// offers → buy with a confirm step.
import { html, useState } from '../ui.js';
import { ConfirmAsk, DataTable, ErrorNote, Loading, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { formatInZone, tr } from './logic.js';
import { NUMBER_TYPES, availableQuery, flowsOnNumber } from './telephony_logic.js';

function caps(capabilities, t) {
  return ['voice', 'sms', 'mms']
    .filter((c) => capabilities?.[c])
    .map((c) => t(`admin.numbers.cap.${c}`))
    .join('・');
}

function OwnedRow({ api, me, lang, number, onReleased }) {
  const t = (k, v) => tr(lang, k, v);
  const [confirming, setConfirming] = useState(false);
  const act = useAction();
  const [inUse, setInUse] = useState([]);
  const e164 = number.phone_number;
  const errId = `number-${e164.replace(/\D/g, '')}-error`;
  // Parked by a release Twilio did not answer: out of service here; a DELETE again finishes it.
  const releasing = number.status === 'releasing';

  async function release() {
    const out = await act.run(() => api.request('DELETE', orgPath(me, `/numbers/${encodeURIComponent(e164)}`)), '', async (err) => {
      setConfirming(false);
      if (err.code !== 'number_in_use') return;
      // The API says a live flow answers on it; name that flow (the admin switches it off there).
      try {
        const { flows } = await api.request('GET', orgPath(me, '/call-flows'));
        setInUse(flowsOnNumber(flows, e164));
      } catch {
        setInUse([]);
      }
    });
    if (out) onReleased(e164);
  }

  return html`<tr data-number=${e164} data-status=${number.status || 'active'}>
    <th scope="row" class="admin-mono">${e164}${releasing && html` <span class="admin-chip chip-pending"
      data-chip="releasing">${t('admin.numbers.releasing')}</span>`}</th>
    <td>${number.friendly_name && number.friendly_name !== e164 ? number.friendly_name : ''}</td>
    <td>${caps(number.capabilities, t)}</td>
    <td>${number.bought_at ? formatInZone(Date.parse(number.bought_at), me.timezone || 'UTC', lang) : ''}</td>
    <td class="admin-row-actions">
      ${releasing && html`<button type="button" class="small-button is-primary" data-action="finish-release"
        aria-label=${t('admin.numbers.finishReleaseOne', { number: e164 })} disabled=${act.busy}
        aria-describedby=${act.error ? errId : `${errId}-hint`} onClick=${release}>${t('admin.numbers.finishRelease')}</button>`}
      ${!releasing && !confirming && html`<button type="button" class="small-button" data-action="release"
        aria-label=${t('admin.numbers.releaseOne', { number: e164 })}
        aria-describedby=${act.error ? errId : undefined}
        onClick=${() => { setConfirming(true); act.setError(null); }}>${t('admin.numbers.release')}</button>`}
      ${confirming && html`<${ConfirmAsk} lang=${lang} question=${t('admin.numbers.releaseAsk', { number: e164 })} busy=${act.busy}
        yes=${{ label: t('admin.numbers.releaseYes'), action: 'confirm-release' }} no=${{ label: t('admin.cancel'), action: 'cancel' }}
        onYes=${release} onNo=${() => setConfirming(false)} />`}
    </td>
  </tr>
  <tr class="admin-row-message" data-number-message=${e164}>
    <td colspan="5">
      ${releasing && html`<p class="admin-hint" id=${`${errId}-hint`} data-releasing-hint>${t('admin.numbers.releasingHint')}</p>`}
      <${ErrorNote} error=${act.error} lang=${lang} id=${errId} />
      ${act.error?.code === 'number_in_use' && inUse.length > 0 && html`<p class="admin-hint" data-flows-on-number>
        ${t('admin.numbers.inUseBy', { flows: inUse.map((f) => `「${f.name}」`).join(', ') })}
        <a href="#/admin/call-flows">${t('admin.numbers.toFlows')}</a></p>`}
    </td>
  </tr>`;
}

function Search({ api, me, lang, onBought }) {
  const t = (k, v) => tr(lang, k, v);
  const [form, setForm] = useState({ country: me.country || 'US', type: 'local', contains: '' });
  const [found, setFound] = useState(null);
  const searching = useAction();
  const buying = useAction();
  const [asking, setAsking] = useState(null); // the number being confirmed
  const busy = searching.busy || buying.busy;

  async function search(ev) {
    ev.preventDefault();
    buying.setOk('');
    const res = await searching.run(() => api.request('GET', orgPath(me, `/numbers/available${availableQuery(form)}`)));
    setFound(res ? res.numbers || [] : null);
  }

  async function buy(e164) {
    const rec = await buying.run(() => api.request('POST', orgPath(me, '/numbers'), { phone_number: e164 }),
      (r) => t('admin.numbers.bought', { number: r.phone_number }));
    if (!rec) return;
    setAsking(null);
    setFound((list) => (list || []).filter((n) => n.phone_number !== e164));
    onBought(rec);
  }

  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  return html`<div class="admin-block">
    <h3 id="numbers-search-title">${t('admin.numbers.searchTitle')}</h3>
    <form class="admin-filters" id="numbers-search" novalidate onSubmit=${search} aria-labelledby="numbers-search-title">
      <div class="admin-field">
        <label for="numbers-country">${t('admin.numbers.country')}</label>
        <input id="numbers-country" value=${form.country} maxlength="2" autocomplete="off" onInput=${set('country')}
          aria-describedby="numbers-country-hint" />
        <span class="admin-hint" id="numbers-country-hint">${t('admin.numbers.countryHint')}</span>
      </div>
      <div class="admin-field">
        <label for="numbers-type">${t('admin.numbers.type')}</label>
        <select id="numbers-type" value=${form.type} onChange=${set('type')}>
          ${NUMBER_TYPES.map((k) => html`<option value=${k}>${t(`admin.numbers.type.${k}`)}</option>`)}
        </select>
      </div>
      <div class="admin-field">
        <label for="numbers-contains">${t('admin.numbers.contains')}</label>
        <input id="numbers-contains" value=${form.contains} autocomplete="off" inputmode="tel" onInput=${set('contains')} />
      </div>
      <button type="submit" class="primary-button" disabled=${busy}>${t('admin.numbers.search')}</button>
    </form>
    <${ErrorNote} error=${searching.error} lang=${lang} id="numbers-search-error" />
    <p role="status" class="admin-ok" id="numbers-bought">${buying.ok}</p>
    ${found && html`<p class="admin-muted" role="status">${t('admin.numbers.found', { n: found.length })}</p>`}
    ${found && found.length > 0 && html`<${DataTable} id="numbers-available" caption=${t('admin.numbers.availableCaption')}
      head=${[t('admin.numbers.number'), t('admin.numbers.locality'), t('admin.numbers.capabilities'),
        t('admin.numbers.actions')]}>
      ${found.map((n) => html`<tr key=${n.phone_number} data-available=${n.phone_number}>
          <th scope="row" class="admin-mono">${n.phone_number}</th>
          <td>${[n.locality, n.region].filter(Boolean).join(' ')}</td>
          <td>${caps(n.capabilities, t)}</td>
          <td class="admin-row-actions">
            ${asking !== n.phone_number && html`<button type="button" class="small-button is-primary" data-action="buy"
              aria-label=${t('admin.numbers.buyOne', { number: n.phone_number })}
              onClick=${() => { setAsking(n.phone_number); buying.setError(null); }}>${t('admin.numbers.buy')}</button>`}
            ${asking === n.phone_number && html`<${ConfirmAsk} lang=${lang} question=${t('admin.numbers.buyAsk', { number: n.phone_number })}
              busy=${busy} yes=${{ label: t('admin.numbers.buyYes'), action: 'confirm-buy', class: 'is-primary' }}
              no=${{ label: t('admin.cancel'), action: 'cancel' }} onYes=${() => buy(n.phone_number)} onNo=${() => setAsking(null)} />
              <${ErrorNote} error=${buying.error} lang=${lang} id="numbers-buy-error" />`}
          </td>
        </tr>`)}<//>`}
  </div>`;
}

export function NumbersView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/numbers?limit=1000')), [me.org]);
  const [released, setReleased] = useState('');
  const numbers = data?.numbers || [];
  return html`<${ViewFrame} id="numbers" title=${t('admin.numbers.title')}>
    <h3 id="numbers-owned-title">${t('admin.numbers.owned')}</h3>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="numbers-error" />
    <p role="status" class="admin-ok" id="numbers-released">${released}</p>
    ${data && !numbers.length && html`<p class="admin-muted" id="numbers-none">${t('admin.numbers.none')}</p>`}
    ${numbers.length > 0 && html`<${DataTable} id="numbers-table" caption=${t('admin.numbers.caption')}
      head=${[t('admin.numbers.number'), t('admin.numbers.friendly'), t('admin.numbers.capabilities'),
        t('admin.numbers.boughtAt'), t('admin.numbers.actions')]}>
      ${numbers.map((n) => html`<${OwnedRow} key=${n.phone_number} api=${api} me=${me} lang=${lang} number=${n}
          onReleased=${(e164) => { setReleased(t('admin.numbers.released', { number: e164 })); reload(); }} />`)}<//>`}
    <${Search} api=${api} me=${me} lang=${lang} onBought=${() => { setReleased(''); reload(); }} />
  <//>`;
}
