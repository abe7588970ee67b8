// Usage: today's email counts against each limit, the SMS credit balance, and when the limits
// reset (the next midnight in the org's time zone, shown in that zone).
import { html } from '../ui.js';
import { ErrorNote, Loading, ViewFrame, orgPath, useLoad } from './common.js';
import { formatNumber, resetLabel, tr, usageBars } from './logic.js';

function Bar({ bar, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const labelId = `usage-${bar.key}-label`;
  const textId = `usage-${bar.key}-text`;
  if (bar.limit <= 0) {
    return html`<div class="admin-meter" data-limit=${bar.key}>
      <div class="admin-meter-head"><span id=${labelId}>${t(bar.label)}</span></div>
      <p class="admin-muted">${t('admin.usage.noMass')}</p>
    </div>`;
  }
  const count = t('admin.usage.count', { used: formatNumber(bar.used, lang), limit: formatNumber(bar.limit, lang) });
  const state = bar.full ? t('admin.usage.full') : t('admin.usage.remaining', { n: formatNumber(bar.remaining, lang) });
  return html`<div class=${`admin-meter${bar.full ? ' is-full' : ''}`} data-limit=${bar.key}>
    <div class="admin-meter-head">
      <span id=${labelId}>${t(bar.label)}</span>
      <span id=${textId} class="admin-meter-count">${count} · ${t('admin.usage.percent', { pct: bar.pct })}</span>
    </div>
    <progress max=${bar.limit} value=${Math.min(bar.used, bar.limit)} aria-labelledby=${labelId}
      aria-describedby=${textId}>${bar.pct}%</progress>
    <p class="admin-muted admin-meter-state">${state}</p>
  </div>`;
}

export function UsageView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const { data, error, loading, reload } = useLoad(() => api.request('GET', orgPath(me, '/usage')), [me.org]);
  const reloadButton = html`<button type="button" class="text-button" onClick=${reload}>${t('admin.reload')}</button>`;
  if (loading && !data) return html`<${ViewFrame} id="usage" title=${t('admin.usage.title')}><${Loading} lang=${lang} /><//>`;
  if (error) {
    return html`<${ViewFrame} id="usage" title=${t('admin.usage.title')} actions=${reloadButton}>
      <${ErrorNote} error=${error} lang=${lang} /><//>`;
  }
  const sms = data.sms || {};
  const auto = sms.auto_recharge || {};
  return html`<${ViewFrame} id="usage" title=${t('admin.usage.title')} actions=${reloadButton}>
    <p class="admin-reset" id="usage-reset">
      <strong>${resetLabel(data.email, Date.now(), lang)}</strong>
      <span class="admin-muted"> ${t('admin.usage.resetsHint')}</span>
    </p>
    <p class="admin-muted">${t('admin.usage.day', { day: data.email?.day ?? '' })}</p>
    <div class="admin-meters">
      ${usageBars(data).map((bar) => html`<${Bar} key=${bar.key} bar=${bar} lang=${lang} />`)}
      <div class="admin-meter" data-limit="sms">
        <div class="admin-meter-head">
          <span>${t('admin.usage.smsCredits')}</span>
          <span class="admin-meter-count" id="usage-sms-balance">${t('admin.usage.credits', { n: formatNumber(sms.balance ?? 0, lang) })}</span>
        </div>
        <p class="admin-muted">${auto.enabled
          ? t('admin.usage.autoOn', { threshold: formatNumber(auto.threshold, lang), amount: formatNumber(auto.amount, lang) })
          : t('admin.usage.autoOff')}</p>
      </div>
    </div>
  <//>`;
}
