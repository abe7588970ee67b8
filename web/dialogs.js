// Modal dialogs: notification settings (types, reminders, desktop notifications, account) and
// the reply-by-SMS dialog (an approved template, its merge fields, the API's error inline).

import { html, useEffect, useRef } from './ui.js';
import { t, typeLabel } from './i18n.js';
import { orderTypes, typeIcon } from './types.js';
import { fillTemplate, templateFields } from './controller.js';
import { presentSignal } from './present.js';
import { getLang } from './i18n.js';

/** A <dialog> shown modal while mounted; Escape (cancel) calls onClose; focus returns to `returnTo`. */
function Modal({ id, labelledBy, onClose, children, cls = '' }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    const back = document.activeElement;
    if (d && !d.open) d.showModal();
    return () => {
      if (back && document.contains(back)) back.focus();
    };
  }, []);
  return html`
    <dialog id=${id} class=${`dialog ${cls}`} aria-labelledby=${labelledBy} ref=${ref}
            onCancel=${(e) => { e.preventDefault(); onClose(); }}>
      ${children}
    </dialog>
  `;
}

export function SettingsDialog({ st, act }) {
  const s = st.settings;
  const types = s ? orderTypes(Object.keys(s.types || {})).filter((x) => x in (s.types || {})) : [];
  const perm = st.notifyPermission;
  return html`
    <${Modal} id="settings-dialog" labelledBy="settings-title" onClose=${act.closeSettings} cls="settings-dialog">
      <div class="settings-form">
        <header class="dialog-header">
          <h2 id="settings-title">${t('settings.title')}</h2>
          <button type="button" class="text-button" id="settings-close" onClick=${act.closeSettings}>${t('settings.close')}</button>
        </header>
        ${st.settingsError && html`<p class="settings-status is-error" role="alert">${st.settingsError}</p>`}
        <div class="settings-scroll">
          <section aria-labelledby="desktop-title">
            <h3 id="desktop-title">${t('settings.desktop')}</h3>
            ${perm === 'unsupported'
              ? html`<p class="muted">${t('notify.unsupported')}</p>`
              : perm === 'denied'
                ? html`<p class="muted">${t('notify.denied')}</p>`
                : st.notifyEnabled && perm === 'granted'
                  ? html`<div class="setting-row"><label for="notify-switch">${t('notify.on')}</label>
                      <input type="checkbox" role="switch" class="switch" id="notify-switch" checked onChange=${act.disableNotifications} /></div>`
                  : html`<button type="button" id="notify-button" class="text-button" onClick=${act.enableNotifications}>${t('notify.enable')}</button>`}
          </section>
          ${s && 'reminders' in s && html`
            <section>
              <div class="setting-row">
                <label for="reminders-switch">${t('settings.reminders')}</label>
                <input type="checkbox" role="switch" class="switch" id="reminders-switch" data-setting="reminders"
                       checked=${!!s.reminders} onChange=${(e) => act.toggleSetting('reminders', e.currentTarget.checked)} />
              </div>
            </section>`}
          <section aria-labelledby="types-title">
            <h3 id="types-title">${t('settings.types')}</h3>
            <p class="muted">${t('settings.lead')}</p>
            ${!s
              ? html`<p class="muted" role="status">${t('settings.loading')}</p>`
              : html`<ul id="settings-list" class="settings-list">
                  ${types.map((type) => html`
                    <li key=${type} class=${st.settingsPending.has(type) ? 'setting-row is-pending' : 'setting-row'} data-type=${type}>
                      <span class="type-icon small" aria-hidden="true" dangerouslySetInnerHTML=${{ __html: typeIcon(type, 16) }}></span>
                      <label for=${`set-${type}`}>${typeLabel(type)}</label>
                      <input type="checkbox" role="switch" class="switch" id=${`set-${type}`} data-type=${type}
                             checked=${!!s.types[type]} onChange=${(e) => act.toggleSetting(type, e.currentTarget.checked)} />
                    </li>`)}
                </ul>`}
          </section>
          <section aria-labelledby="account-title">
            <h3 id="account-title">${t('settings.account')}</h3>
            ${st.me && html`<p class="who"><span class="who-name">${st.me.name || st.me.user}</span>
              <span class="muted"> · ${st.me.org_name || st.me.org} · ${t(`role.${st.me.role}`)}</span></p>`}
            <button type="button" id="signout-button" class="text-button" onClick=${() => act.signOut()}>${t('signout')}</button>
          </section>
        </div>
      </div>
    <//>
  `;
}

export function ReplyDialog({ st, act }) {
  const r = st.reply;
  const p = presentSignal(r.signal, getLang());
  const tpl = (r.templates || []).find((x) => String(x.id) === String(r.template));
  const fields = templateFields(tpl);
  const submit = (e) => {
    e.preventDefault();
    act.sendReply();
  };
  return html`
    <${Modal} id="reply-dialog" labelledBy="reply-title" onClose=${act.closeReply} cls="reply-dialog">
      <form class="reply-form" onSubmit=${submit}>
        <header class="dialog-header">
          <h2 id="reply-title">${t('reply.title')}</h2>
        </header>
        <p class="muted">${t('reply.to', { name: p.company ? `${p.name} (${p.company})` : p.name })}</p>
        ${r.templates === null
          ? html`<p class="muted" role="status">${t('reply.loading')}</p>`
          : r.templates.length === 0 && !r.error
            ? html`<p class="muted">${t('reply.noTemplates')}</p>`
            : r.templates.length > 0 && html`
              <label for="reply-template">${t('reply.template')}</label>
              <select id="reply-template" value=${r.template ?? ''} onChange=${(e) => act.chooseTemplate(e.currentTarget.value)}>
                ${r.templates.map((x) => html`<option key=${x.id} value=${x.id}>${x.name || x.id}</option>`)}
              </select>
              ${fields.map((f) => html`
                <label key=${`l-${f}`} for=${`field-${f}`}>${f}</label>
                <input key=${`i-${f}`} id=${`field-${f}`} class="field-input" data-field=${f} value=${r.data[f] ?? ''}
                       onInput=${(e) => act.setReplyField(f, e.currentTarget.value)} />`)}
              ${tpl && html`<div class="preview"><span class="preview-label">${t('reply.preview')}</span>
                <p id="reply-preview">${fillTemplate(tpl.body, r.data)}</p></div>`}`}
        ${r.error && html`<p id="reply-error" class="form-error" role="alert">${r.error}</p>`}
        <div class="dialog-actions">
          <button type="button" class="text-button" onClick=${act.closeReply}>${t('reply.cancel')}</button>
          <button type="submit" id="reply-send" class="primary-button" disabled=${!tpl || r.sending}>
            ${r.sending ? t('reply.sending') : t('reply.send')}
          </button>
        </div>
      </form>
    <//>
  `;
}
