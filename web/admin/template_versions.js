// Template versions in the templates view: the live version and its pending/draft successor as
// chips, the versions list, the DLT copy of an SMS template (read-only, with a copy button) and the
// SMS preview (encoding, segments, credits) while an SMS body is edited.
import { html, useEffect, useRef, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, orgPath, useLoad } from './common.js';
import { formatNumber, templateChips, tr } from './logic.js';
import { templateVersions } from './messaging_logic.js';

const PREVIEW_DELAY_MS = 350;

/** The status chips: the API's `pending` / `draft` new version beside the live one, else D's chips. */
export function versionChips(tpl) {
  const { live, candidate } = templateVersions(tpl);
  if (!candidate) return templateChips(tpl);
  const key = candidate.status === 'pending' ? 'admin.templates.status.newVersion'
    : candidate.status === 'rejected' ? 'admin.templates.status.newRejected'
    : 'admin.templates.status.newDraft';
  return [
    { kind: 'approved', key: 'admin.templates.serving', vars: { version: live.version } },
    { kind: candidate.status === 'pending' ? 'pending' : candidate.status === 'rejected' ? 'rejected' : 'draft', key, vars: { version: candidate.version } },
  ];
}

export function VersionsPanel({ api, me, lang, tpl }) {
  const t = (k, v) => tr(lang, k, v);
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/templates/${encodeURIComponent(tpl.id)}/versions`)),
    [me.org, tpl.id, tpl.version, tpl.pending?.version, tpl.draft?.version, tpl.pending?.status, tpl.draft?.status],
  );
  const versions = [...(data?.versions || [])].reverse();
  const caption = t('admin.templates.versionsOf', { name: tpl.name });
  return html`<div class="admin-card admin-block" id="template-versions" role="region" aria-label=${caption}>
    <h3>${caption}</h3>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} />
    ${versions.length > 0 && html`<${DataTable} id="template-versions-table" caption=${caption}
      head=${[[t('admin.templates.version'), 'num'], t('admin.templates.status'), t('admin.templates.body')]}>
      ${versions.map((v) => html`<tr key=${v.version} data-version=${v.version} data-status=${v.status} data-live=${v.live ? 'true' : 'false'}>
          <th scope="row" class="num">v${v.version}</th>
          <td><span class=${`admin-chip chip-${v.status}`}>${t(`admin.templates.vstatus.${v.status}`)}</span>
            ${v.live && html` <span class="admin-chip chip-approved">${t('admin.templates.live')}</span>`}</td>
          <td class="admin-pre">${v.subject ? html`<strong>${v.subject}</strong><br />` : ''}${v.body}</td>
        </tr>`)}<//>`}
  </div>`;
}

async function copyText(text, el) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (http, an old browser): select the text so Ctrl+C copies it.
    el?.focus();
    el?.select();
    return false;
  }
}

/** The versions whose DLT copy the page offers, newest first: the new (draft/pending/rejected) version
 *  the admin is about to register, then the live one. */
export function dltVersions(tpl) {
  const { live, candidate } = templateVersions(tpl);
  return [...(candidate ? [{ version: candidate.version, status: candidate.status }] : []), live];
}

export function DltPanel({ api, me, lang, tpl }) {
  const t = (k, v) => tr(lang, k, v);
  const offered = dltVersions(tpl);
  const [picked, setPicked] = useState(null);
  const version = offered.some((v) => v.version === picked) ? picked : offered[0].version;
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/templates/${encodeURIComponent(tpl.id)}/dlt?version=${version}`)),
    [me.org, tpl.id, version, tpl.version],
  );
  const box = useRef(null);
  const [copied, setCopied] = useState('');
  const title = t('admin.templates.dltCopyOf', { name: tpl.name });
  return html`<div class="admin-card admin-block" id="template-dlt" role="region" aria-label=${title}>
    <h3>${title}</h3>
    <p class="admin-hint" id="template-dlt-hint">${t('admin.templates.dltHint')}</p>
    ${offered.length > 1 && html`<div class="admin-field">
      <label for="template-dlt-version">${t('admin.templates.dltVersion')}</label>
      <select id="template-dlt-version" value=${String(version)} onChange=${(e) => { setPicked(Number(e.currentTarget.value)); setCopied(''); }}>
        ${offered.map((v) => html`<option value=${String(v.version)}>v${v.version} (${t(`admin.templates.vstatus.${v.status || 'draft'}`)})</option>`)}
      </select>
    </div>`}
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id="template-dlt-error" />
    ${data && html`<div class="admin-field" data-version=${data.version}>
        <label for="template-dlt-text">${t('admin.templates.dltText', { n: data.variables })}</label>
        <textarea id="template-dlt-text" rows="3" readonly ref=${box} value=${data.text} aria-describedby="template-dlt-hint"></textarea>
      </div>
      ${data.dlt_template_id && html`<p class="admin-muted">${t('admin.templates.dlt')}: <span class="admin-mono">${data.dlt_template_id}</span></p>`}
      <div class="admin-actions">
        <button type="button" class="small-button is-primary" id="template-dlt-copy"
          onClick=${async () => setCopied((await copyText(data.text, box.current)) ? t('admin.templates.copied') : t('admin.templates.copySelect'))}>
          ${t('admin.templates.copy')}</button>
        <span role="status" class="admin-ok">${copied}</span>
      </div>`}
  </div>`;
}

/** What the SMS body costs, asked from the API a moment after the admin stops typing. */
export function SmsPreview({ api, me, lang, body }) {
  const t = (k, v) => tr(lang, k, v);
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    if (!body) {
      setState({ data: null, error: null });
      return undefined;
    }
    let live = true;
    const timer = setTimeout(() => {
      api.request('POST', orgPath(me, '/sms/preview'), { body }).then(
        (data) => live && setState({ data, error: null }),
        (error) => live && setState({ data: null, error }),
      );
    }, PREVIEW_DELAY_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [body]);
  const p = state.data;
  return html`<div class="admin-preview" id="sms-preview" aria-live="polite">
    <strong>${t('admin.templates.preview')}</strong>
    ${p && html`<span id="sms-preview-facts" data-encoding=${p.encoding} data-segments=${p.segments} data-credits=${p.credits}>
      ${t('admin.templates.previewFacts', { encoding: p.encoding, segments: formatNumber(p.segments, lang), credits: formatNumber(p.credits, lang), chars: formatNumber([...p.text].length, lang) })}</span>`}
    ${!p && !state.error && html`<span class="admin-muted">${t('admin.templates.previewEmpty')}</span>`}
    <${ErrorNote} error=${state.error} lang=${lang} id="sms-preview-error" />
  </div>`;
}
