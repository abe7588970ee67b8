// The page shell: one-row header (brand, admin navigation for admins, status, language, bell,
// settings), sign-in, and the router (#/ feed, #/admin/<id> an admin view).

import { html, useEffect, useRef, useState } from './ui.js';
import { t } from './i18n.js';
import { uiIcon } from './types.js';
import { badgeText } from './store.js';
import { hrefOf } from './route.js';
import { adminViews } from './admin/index.js';
import { Feed } from './feed.js';
import { ReplyDialog, SettingsDialog } from './dialogs.js';

export function Icon({ name, size = 20, svg }) {
  return html`<span class="icon" aria-hidden="true" dangerouslySetInnerHTML=${{ __html: svg || uiIcon(name, size) }}></span>`;
}

export function App({ st, act, api }) {
  const signedIn = !!st.token;
  const isAdmin = st.me?.role === 'admin';
  const onAdmin = st.route.name === 'admin';
  return html`
    <a class="skip-link" href="#main">${t('list.label')}</a>
    <${Header} st=${st} act=${act} isAdmin=${isAdmin} />
    <main id="main" tabindex="-1">
      ${!signedIn
        ? html`<${SignIn} error=${st.signinError} onSignIn=${act.startSession} />`
        : onAdmin && isAdmin
          ? html`<${AdminArea} st=${st} api=${api} />`
          : html`<${Feed} st=${st} act=${act} />`}
    </main>
    ${signedIn && st.settingsOpen && html`<${SettingsDialog} st=${st} act=${act} />`}
    ${signedIn && st.reply && html`<${ReplyDialog} st=${st} act=${act} />`}
    <div class="sr-only" aria-live="polite" aria-atomic="true">${st.announce}</div>
    ${st.toast && html`<div class="toast" role="status">${st.toast}</div>`}
  `;
}

function Header({ st, act, isAdmin }) {
  const signedIn = !!st.token;
  const onAdmin = st.route.name === 'admin';
  const n = st.unread;
  const badge = badgeText(n);
  const bellLabel = `${t('bell.label', { n })} – ${t('bell.unreadOnly')}`;
  const firstAdmin = adminViews[0]?.id;
  return html`
    <header class="topbar">
      <a class="brand" href="#/" aria-label="signalgate">
        <span class="brand-mark"><${Icon} name="signal" size=${18} /></span>
        <span class="brand-name">signalgate</span>
      </a>
      ${signedIn && isAdmin && firstAdmin && html`
        <nav class="main-nav" aria-label=${t('nav.adminViews')}>
          <a href="#/" class="nav-link" aria-current=${onAdmin ? undefined : 'page'}>${t('nav.feed')}</a>
          <a href=${hrefOf({ name: 'admin', id: firstAdmin })} class="nav-link" id="admin-link"
             aria-current=${onAdmin ? 'page' : undefined}>${t('nav.admin')}</a>
        </nav>`}
      <span class="spacer"></span>
      <span id="status" class="pill" role="status" data-state=${st.status} title=${t('status.title')}>
        <span class="pill-text">${t(`status.${st.status}`)}</span>
      </span>
      <button type="button" id="lang-toggle" class="lang-toggle" data-lang=${st.lang} aria-label=${t('lang.label')}
              onClick=${act.toggleLang}>
        <span lang="ja">日本語</span><span class="lang-sep" aria-hidden="true">/</span><span lang="en">EN</span>
      </button>
      ${signedIn && html`
        <button type="button" id="bell-button" class="icon-button bell" aria-pressed=${st.query.unreadOnly ? 'true' : 'false'}
                aria-label=${bellLabel} title=${bellLabel}
                onClick=${() => { if (onAdmin) location.hash = '#/'; act.setQuery({ unreadOnly: !st.query.unreadOnly }); }}>
          <${Icon} name="bell" size=${22} />
          ${badge && html`<span id="bell-count" class="badge" aria-hidden="true">${badge}</span>`}
        </button>
        <button type="button" id="settings-button" class="icon-button" aria-label=${t('settings.open')}
                title=${t('settings.open')} aria-haspopup="dialog" onClick=${act.openSettings}>
          <${Icon} name="gear" size=${22} />
        </button>`}
    </header>
  `;
}

function SignIn({ error, onSignIn }) {
  const [local, setLocal] = useState(null);
  const input = useRef(null);
  const submit = (e) => {
    e.preventDefault();
    const token = input.current.value.trim();
    if (!token) {
      setLocal(t('signin.empty'));
      input.current.focus();
      return;
    }
    setLocal(null);
    onSignIn(token);
  };
  const message = local || error;
  return html`
    <section class="signin-view" aria-labelledby="signin-title">
      <form id="signin-form" class="card signin-card" novalidate onSubmit=${submit}>
        <h1 id="signin-title">${t('signin.title')}</h1>
        <p class="muted">${t('signin.lead')}</p>
        ${message && html`<p id="signin-error" class="form-error" role="alert">${message}</p>`}
        <label for="token-input">${t('signin.label')}</label>
        <input id="token-input" name="token" type="password" autocomplete="off" autocapitalize="off" ref=${input}
               spellcheck="false" required aria-describedby="signin-hint" placeholder=${t('signin.placeholder')} />
        <p id="signin-hint" class="hint">${t('signin.hint')}</p>
        <button type="submit" class="primary-button">${t('signin.submit')}</button>
      </form>
    </section>
  `;
}

/** On a phone the admin views are a menu (a select, grouped by each view's `group`), shown by
 *  web/admin/admin.css at narrow widths instead of the list of links. */
function AdminNavSelect({ current }) {
  const groups = [...new Set(adminViews.map((v) => v.group || 'other'))];
  return html`<div class="admin-nav-select">
    <label for="admin-nav-select">${t('nav.adminViews')}</label>
    <select id="admin-nav-select" value=${current}
      onChange=${(e) => { location.hash = hrefOf({ name: 'admin', id: e.currentTarget.value }); }}>
      ${groups.map((g) => html`<optgroup label=${t(`admin.group.${g}`)}>
        ${adminViews.filter((v) => (v.group || 'other') === g).map((v) => html`<option value=${v.id}>${t(v.label)}</option>`)}
      </optgroup>`)}
    </select>
  </div>`;
}

/** #/admin/<id>: the admin console's views (web/admin/index.js), only ever mounted for admins. */
function AdminArea({ st, api }) {
  const view = adminViews.find((v) => v.id === st.route.id) || null;
  const heading = useRef(null);
  useEffect(() => {
    heading.current?.focus();
  }, [st.route.id]);
  return html`
    <div class="admin-area">
      <nav class="admin-nav" aria-label=${t('nav.adminViews')}>
        <${AdminNavSelect} current=${st.route.id} />
        <ul>
          ${adminViews.map((v) => html`
            <li key=${v.id}>
              <a href=${hrefOf({ name: 'admin', id: v.id })} aria-current=${v.id === st.route.id ? 'page' : undefined}>${t(v.label)}</a>
            </li>`)}
        </ul>
      </nav>
      <section class="admin-view" aria-label=${view ? t(view.label) : t('nav.admin')} tabindex="-1" ref=${heading}>
        ${view
          ? html`<${view.Component} key=${view.id} api=${api} me=${st.me} lang=${st.lang} />`
          : html`<p class="empty-state">${t('admin.notFound')}</p>`}
      </section>
    </div>
  `;
}
