// Credits: the balance, the auto-recharge settings (saved with the API's validation shown at the
// field it names) and the ledger. Buying credits is the operator's: shown disabled, with why.
import { html, useEffect, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, useAction, useLoad } from './common.js';
import { autoRechargeBody, errorField, formatInZone, formatNumber, tr } from './logic.js';

const LEDGER_PAGE = 50;
const FIELDS = ['threshold', 'amount', 'max_per_day'];

function formFrom(status) {
  const a = status?.auto_recharge || {};
  return {
    enabled: Boolean(a.enabled),
    threshold: String(a.threshold ?? 0),
    amount: String(a.amount ?? 0),
    max_per_day: a.max_per_day === undefined || a.max_per_day === null ? '' : String(a.max_per_day),
  };
}

function AutoRecharge({ api, me, lang, status, onSaved }) {
  const t = (k, v) => tr(lang, k, v);
  const [form, setForm] = useState(() => formFrom(status));
  const act = useAction();
  useEffect(() => setForm(formFrom(status)), [status]);
  const { error } = act;
  const field = error ? errorField(error.detail) : null;
  const fieldError = FIELDS.includes(field) ? field : null;

  async function save(ev) {
    ev.preventDefault();
    const next = await act.run(() => api.request('PUT', orgPath(me, '/credits/auto-recharge'), autoRechargeBody(form)), 'saved');
    if (next) onSaved(next);
  }

  const input = (name, label, hint) => {
    const id = `credits-${name}`;
    const errId = `${id}-error`;
    const hintId = hint ? `${id}-hint` : null;
    const invalid = fieldError === name;
    return html`<div class="admin-field">
      <label for=${id}>${t(label)}</label>
      <input id=${id} name=${name} type="text" inputmode="numeric" autocomplete="off" value=${form[name]}
        aria-invalid=${invalid ? 'true' : 'false'}
        aria-describedby=${[invalid ? errId : null, hintId].filter(Boolean).join(' ') || undefined}
        onInput=${(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
      ${hint && html`<p class="admin-hint" id=${hintId}>${t(hint)}</p>`}
      ${invalid && html`<${ErrorNote} error=${error} lang=${lang} id=${errId} />`}
    </div>`;
  };

  return html`<form class="admin-form" id="auto-recharge-form" onSubmit=${save} novalidate
      aria-labelledby="credits-auto-title">
    <h3 id="credits-auto-title">${t('admin.credits.autoTitle')}</h3>
    <div class="admin-field admin-check">
      <input id="credits-enabled" type="checkbox" checked=${form.enabled}
        onChange=${(e) => setForm({ ...form, enabled: e.currentTarget.checked })} />
      <label for="credits-enabled">${t('admin.credits.enabled')}</label>
    </div>
    ${input('threshold', 'admin.credits.threshold')}
    ${input('amount', 'admin.credits.amount')}
    ${input('max_per_day', 'admin.credits.maxPerDay', 'admin.credits.maxPerDayHint')}
    ${status?.auto_recharge?.today !== undefined && html`<p class="admin-muted" id="credits-today">${t('admin.credits.today', {
      n: formatNumber(Number(status.auto_recharge.today), lang),
      max: formatNumber(Number(status.auto_recharge.max_per_day ?? 0), lang),
      credits: formatNumber(Number(status.auto_recharge.today) * Number(status.auto_recharge.amount ?? 0), lang),
    })}</p>`}
    ${error && !fieldError && html`<${ErrorNote} error=${error} lang=${lang} id="credits-form-error" />`}
    <div class="admin-actions">
      <button type="submit" class="primary-button" disabled=${act.busy}>${t('admin.credits.save')}</button>
      <span role="status" class="admin-ok">${act.ok && t('admin.saved')}</span>
    </div>
  </form>`;
}

function Ledger({ api, me, lang, version }) {
  const t = (k, v) => tr(lang, k, v);
  const [limit, setLimit] = useState(LEDGER_PAGE);
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/credits/ledger?limit=${limit}`)),
    [me.org, limit, version],
  );
  const entries = data?.entries || [];
  const tz = me.timezone || 'UTC';
  return html`<div class="admin-block">
    <h3 id="credits-ledger-title">${t('admin.credits.ledger')}</h3>
    ${error && html`<${ErrorNote} error=${error} lang=${lang} />`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    ${data && !entries.length && html`<p class="admin-muted">${t('admin.empty')}</p>`}
    ${entries.length > 0 && html`<${DataTable} id="credits-ledger" caption=${t('admin.credits.ledgerCaption')}
      head=${[t('admin.credits.at'), t('admin.credits.type'), [t('admin.credits.change'), 'num'],
        [t('admin.credits.after'), 'num'], t('admin.credits.note')]}>
      ${entries.map((e) => html`<tr key=${e.id} data-type=${e.type}>
          <td>${formatInZone(e.at_ms, tz, lang)}</td>
          <td>${t(`admin.credits.type.${e.type}`)}</td>
          <td class="num">${e.amount > 0 ? '+' : ''}${formatNumber(e.amount, lang)}</td>
          <td class="num">${formatNumber(e.balance, lang)}</td>
          <td>${e.note || e.notification || ''}</td>
        </tr>`)}<//>`}
    ${entries.length >= limit && html`<button type="button" class="text-button" onClick=${() => setLimit(limit + LEDGER_PAGE)}>
      ${t('admin.credits.more')}</button>`}
  </div>`;
}

export function CreditsView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState(null);
  const { data, error, loading } = useLoad(() => api.request('GET', orgPath(me, '/credits')), [me.org]);
  const current = status || data;
  return html`<${ViewFrame} id="credits" title=${t('admin.credits.title')}>
    ${loading && !current && html`<${Loading} lang=${lang} />`}
    ${error && html`<${ErrorNote} error=${error} lang=${lang} />`}
    ${current && html`<div class="admin-balance">
        <span class="admin-muted">${t('admin.credits.balance')}</span>
        <strong id="credits-balance">${t('admin.usage.credits', { n: formatNumber(current.balance ?? 0, lang) })}</strong>
        <button type="button" class="text-button" disabled aria-describedby="credits-purchase-why">${t('admin.credits.purchase')}</button>
        <p class="admin-hint" id="credits-purchase-why">${t('admin.credits.purchaseOff')}</p>
      </div>
      <${AutoRecharge} api=${api} me=${me} lang=${lang} status=${current}
        onSaved=${(next) => { setStatus(next); setVersion(version + 1); }} />`}
    <${Ledger} api=${api} me=${me} lang=${lang} version=${version} />
  <//>`;
}
