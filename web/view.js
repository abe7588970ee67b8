// DOM rendering. All user-supplied text goes in via textContent; innerHTML is
// only used for constant markup (icons, item skeleton).

import { t, getLang, typeLabel, relativeTime, absoluteTime } from './i18n.js';
import { typeIcon, uiIcon } from './types.js';
import { idTime } from './ids.js';

const FLASH_MS = 1800;

const ITEM_SKELETON = `
<button type="button" class="signal-main" aria-expanded="false">
  <span class="type-icon" aria-hidden="true"></span>
  <span class="signal-content">
    <span class="line1">
      <span class="contact"></span>
      <span class="count" aria-hidden="true" hidden></span><span class="count-sr sr-only"></span>
      <span class="kind-tag tag" hidden></span>
      <span class="spacer"></span>
      <span class="unread-dot"><span class="sr-only"></span></span>
      <time class="time"></time>
    </span>
    <span class="line2">
      <span class="type-label"></span>
      <span class="bounce-tag tag" hidden></span>
      <span class="title"></span>
    </span>
    <span class="body"></span>
    <span class="abs-time"></span>
  </span>
</button>`;

function signalTime(s) {
  const ms = Date.parse(s.occurred_at);
  return Number.isFinite(ms) ? ms : idTime(s.id);
}

export function createView(handlers) {
  const $ = (id) => document.getElementById(id);
  const el = {
    signinView: $('signin-view'),
    feedView: $('feed-view'),
    form: $('signin-form'),
    tokenInput: $('token-input'),
    signinError: $('signin-error'),
    status: $('status'),
    who: $('who'),
    userName: $('user-name'),
    userOrg: $('user-org'),
    lang: $('lang-toggle'),
    settingsButton: $('settings-button'),
    bell: $('bell-button'),
    bellCount: $('bell-count'),
    signout: $('signout-button'),
    filter: $('type-filter'),
    markAll: $('mark-all-read'),
    banner: $('banner'),
    list: $('signal-list'),
    empty: $('empty-state'),
    dialog: $('settings-dialog'),
    settingsStatus: $('settings-status'),
    settingsList: $('settings-list'),
    live: $('live-region'),
    toast: $('toast'),
  };

  $('brand-mark').innerHTML = uiIcon('signal', 18);
  $('bell-icon').innerHTML = uiIcon('bell', 22);
  el.settingsButton.innerHTML = uiIcon('gear', 22);

  /** id -> { li, sig, lang, flashTimer } */
  const items = new Map();
  const expanded = new Set();
  let ui = { status: 'signed-out', unread: 0, unreadOnly: false, me: null, filterTypes: [], filterValue: 'all' };
  let settingsTypes = null; // last rendered [[type, bool], ...] or null while loading
  let settingsPending = new Set();
  let toastTimer = null;
  let announceTimer = null;

  // ---- events -------------------------------------------------------------

  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = el.tokenInput.value.trim();
    if (!token) {
      showSignInError(t('signin.empty'));
      el.tokenInput.focus();
      return;
    }
    handlers.onSignIn(token);
  });
  el.signout.addEventListener('click', () => handlers.onSignOut());
  el.lang.addEventListener('click', () => handlers.onToggleLang());
  el.settingsButton.addEventListener('click', () => handlers.onOpenSettings());
  el.bell.addEventListener('click', () => handlers.onToggleUnreadOnly());
  el.markAll.addEventListener('click', () => handlers.onMarkAllRead());
  el.filter.addEventListener('change', () => {
    ui.filterValue = el.filter.value;
    handlers.onFilter(el.filter.value);
  });

  el.list.addEventListener('click', (e) => {
    const button = e.target.closest('.signal-main');
    const li = button?.closest('li.signal');
    if (!li) return;
    const id = li.dataset.id;
    setExpanded(li, !expanded.has(id));
    handlers.onItemActivate(id);
  });

  // Arrow keys / Home / End move between items (each item is a button, Tab works too).
  el.list.addEventListener('keydown', (e) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const buttons = [...el.list.querySelectorAll('.signal-main')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0 && e.key !== 'Home' && e.key !== 'End') return;
    const next = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (buttons[next]) {
      e.preventDefault();
      buttons[next].focus();
    }
  });

  el.settingsList.addEventListener('change', (e) => {
    const input = e.target.closest('input[data-type]');
    if (input) handlers.onSettingToggle(input.dataset.type, input.checked);
  });

  // ---- header / status ------------------------------------------------------

  function setStatus(state) {
    ui.status = state;
    el.status.dataset.state = state;
    el.status.textContent = t(`status.${state}`);
    el.status.title = t('status.title');
  }

  function setUnread(n) {
    const count = Math.max(0, Number(n) || 0);
    ui.unread = count;
    el.bellCount.textContent = String(count);
    el.bellCount.hidden = count === 0;
    const label = `${t('bell.label', { n: count })} – ${t('bell.unreadOnly')}`;
    el.bell.setAttribute('aria-label', label);
    el.bell.title = label;
    document.title = count > 0 ? `(${count}) signalgate` : 'signalgate';
    if (count > 0) el.markAll.disabled = false;
  }

  function setUnreadOnly(flag) {
    ui.unreadOnly = !!flag;
    el.bell.setAttribute('aria-pressed', String(ui.unreadOnly));
  }

  function setUser(me) {
    ui.me = me;
    el.who.hidden = !me;
    if (!me) return;
    el.userName.textContent = me.name || me.user || '';
    el.userOrg.textContent = me.org || '';
    el.userOrg.title = t('user.org', { org: me.org || '' });
    el.who.title = me.role ? t(`role.${me.role}`) : '';
  }

  function setFilterOptions(types, value) {
    ui.filterTypes = types;
    ui.filterValue = value;
    const opts = [['all', t('filter.all')], ...types.map((x) => [x, typeLabel(x)])];
    el.filter.replaceChildren(
      ...opts.map(([v, label]) => {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = label;
        return o;
      }),
    );
    el.filter.value = opts.some(([v]) => v === value) ? value : 'all';
  }

  // ---- views ----------------------------------------------------------------

  function showSignInError(message, detail) {
    el.signinError.hidden = !message;
    el.signinError.textContent = message || '';
    if (message && detail && detail !== message) {
      const small = document.createElement('small');
      small.textContent = detail;
      el.signinError.append(document.createElement('br'), small);
    }
  }

  function showSignIn(message, detail) {
    if (el.dialog.open) el.dialog.close();
    el.signinView.hidden = false;
    el.feedView.hidden = true;
    for (const b of [el.signout, el.settingsButton, el.bell]) b.hidden = true;
    setUser(null);
    renderList([], { emptyKey: null });
    expanded.clear();
    hideBanner();
    clearTimeout(toastTimer);
    el.toast.hidden = true;
    el.tokenInput.value = '';
    showSignInError(message, detail);
    el.tokenInput.focus();
  }

  function showFeed() {
    el.signinView.hidden = true;
    el.feedView.hidden = false;
    for (const b of [el.signout, el.settingsButton, el.bell]) b.hidden = false;
    showSignInError('');
  }

  function showBanner(message) {
    el.banner.textContent = message;
    el.banner.hidden = false;
  }

  function hideBanner() {
    el.banner.hidden = true;
    el.banner.textContent = '';
  }

  function toast(message) {
    clearTimeout(toastTimer);
    el.toast.textContent = message;
    el.toast.hidden = false;
    toastTimer = setTimeout(() => {
      el.toast.hidden = true;
    }, 6000);
  }

  function announce(message) {
    clearTimeout(announceTimer);
    el.live.textContent = '';
    announceTimer = setTimeout(() => {
      el.live.textContent = message;
    }, 60);
  }

  // ---- list -------------------------------------------------------------------

  function setExpanded(li, on) {
    const id = li.dataset.id;
    if (on) expanded.add(id);
    else expanded.delete(id);
    li.classList.toggle('is-expanded', on);
    li.querySelector('.signal-main').setAttribute('aria-expanded', String(on));
  }

  function updateItem(li, s, now) {
    const q = (sel) => li.querySelector(sel);
    li.dataset.id = s.id;
    if (li.dataset.type !== s.type) {
      li.dataset.type = s.type;
      q('.type-icon').innerHTML = typeIcon(s.type, 20);
    }
    const bounce = s.type === 'email.bounced' && ['hard', 'soft'].includes(s.data?.bounce) ? s.data.bounce : '';
    if (bounce) li.dataset.bounce = bounce;
    else delete li.dataset.bounce;

    li.classList.toggle('is-unread', !s.read);
    li.classList.toggle('is-expanded', expanded.has(s.id));
    q('.signal-main').setAttribute('aria-expanded', String(expanded.has(s.id)));

    const contact = q('.contact');
    contact.textContent = s.contact?.name || t('contact.unknown');
    contact.classList.toggle('is-unknown', !s.contact?.name);

    const kind = s.contact?.kind;
    const kindTag = q('.kind-tag');
    kindTag.hidden = !kind;
    kindTag.textContent = kind ? (t(`kind.${kind}`) === `kind.${kind}` ? kind : t(`kind.${kind}`)) : '';

    const n = Number(s.count) || 1;
    const count = q('.count');
    count.hidden = n <= 1;
    count.textContent = n > 1 ? String(n) : '';
    q('.count-sr').textContent = n > 1 ? ` (${t('item.count', { n })})` : '';

    q('.unread-dot .sr-only').textContent = s.read ? '' : t('item.unread');

    const ms = signalTime(s);
    const time = q('.time');
    if (s.occurred_at) time.setAttribute('datetime', s.occurred_at);
    time.textContent = relativeTime(ms, now);
    time.title = absoluteTime(ms);
    q('.abs-time').textContent = absoluteTime(ms);

    q('.type-label').textContent = typeLabel(s.type);
    const bounceTag = q('.bounce-tag');
    bounceTag.hidden = !bounce;
    bounceTag.textContent = bounce ? t(`bounce.${bounce}`) : '';

    q('.title').textContent = s.title || '';
    const body = q('.body');
    body.textContent = s.body || '';
    body.hidden = !s.body;
  }

  /**
   * Render `signals` (already filtered, newest first). Elements are keyed by id
   * and reused, so focus and expansion survive updates.
   * opts.flash: ids to highlight (grouped updates); opts.entering: ids to animate in;
   * opts.emptyKey: i18n key for the empty state.
   */
  function renderList(signals, { flash, entering, emptyKey = 'list.empty' } = {}) {
    const now = Date.now();
    const lang = getLang();
    const seen = new Set();
    let prev = null;
    for (const s of signals) {
      seen.add(s.id);
      let entry = items.get(s.id);
      if (!entry) {
        const li = document.createElement('li');
        li.className = 'signal';
        li.innerHTML = ITEM_SKELETON;
        entry = { li, sig: null, lang: null, flashTimer: null };
        items.set(s.id, entry);
        if (entering?.has(s.id)) li.classList.add('enter');
        li.addEventListener('animationend', (e) => {
          if (e.animationName === 'sg-enter') li.classList.remove('enter');
        });
      }
      if (entry.sig !== s || entry.lang !== lang) {
        updateItem(entry.li, s, now);
        entry.sig = s;
        entry.lang = lang;
      }
      const expectedAt = prev ? prev.nextSibling : el.list.firstChild;
      if (expectedAt !== entry.li) el.list.insertBefore(entry.li, expectedAt);
      prev = entry.li;
    }
    for (const [id, entry] of items) {
      if (!seen.has(id)) {
        clearTimeout(entry.flashTimer);
        entry.li.remove();
        items.delete(id);
      }
    }
    for (const id of flash || []) {
      const entry = items.get(id);
      if (!entry) continue;
      const li = entry.li;
      clearTimeout(entry.flashTimer);
      li.classList.remove('flash');
      void li.offsetWidth; // restart the animation
      li.classList.add('flash');
      entry.flashTimer = setTimeout(() => li.classList.remove('flash'), FLASH_MS);
    }
    el.empty.hidden = signals.length > 0 || !emptyKey;
    el.empty.textContent = emptyKey ? t(emptyKey) : '';
    el.markAll.disabled = ui.unread === 0 && !signals.some((s) => !s.read);
  }

  /** Refresh relative times (called every 30 s). */
  function refreshTimes() {
    const now = Date.now();
    for (const { li, sig } of items.values()) {
      if (sig) li.querySelector('.time').textContent = relativeTime(signalTime(sig), now);
    }
  }

  // ---- settings dialog ------------------------------------------------------------

  function openSettings() {
    if (typeof el.dialog.showModal === 'function') {
      if (!el.dialog.open) el.dialog.showModal();
    } else {
      el.dialog.setAttribute('open', '');
    }
  }

  function isSettingsOpen() {
    return el.dialog.open;
  }

  function setSettingsStatus(message, isError = false) {
    el.settingsStatus.textContent = message || '';
    el.settingsStatus.classList.toggle('is-error', !!isError);
  }

  /** types: ordered [[type, enabled], ...] or null (loading); pending: Set of types being saved. */
  function renderSettings(types, pending = settingsPending) {
    settingsTypes = types;
    settingsPending = pending;
    if (!types) {
      el.settingsList.replaceChildren();
      setSettingsStatus(t('settings.loading'));
      return;
    }
    const rows = new Map([...el.settingsList.children].map((li) => [li.dataset.type, li]));
    const lang = getLang();
    let prev = null;
    for (const [type, enabled] of types) {
      let li = rows.get(type);
      if (!li) {
        li = document.createElement('li');
        li.className = 'setting-row';
        li.dataset.type = type;
        const inputId = `setting-${type.replace(/[^a-z0-9_-]/gi, '-')}`;
        const icon = document.createElement('span');
        icon.className = 'type-icon';
        icon.dataset.type = type;
        icon.setAttribute('aria-hidden', 'true');
        icon.innerHTML = typeIcon(type, 18);
        const label = document.createElement('label');
        label.htmlFor = inputId;
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.id = inputId;
        input.className = 'switch';
        input.setAttribute('role', 'switch');
        input.dataset.type = type;
        li.append(icon, label, input);
      }
      rows.delete(type);
      const label = li.querySelector('label');
      if (li.dataset.lang !== lang) {
        label.textContent = typeLabel(type);
        li.dataset.lang = lang;
      }
      // Never disable the switch while saving: that would drop keyboard focus.
      li.querySelector('input').checked = !!enabled;
      li.classList.toggle('is-pending', pending.has(type));
      li.setAttribute('aria-busy', String(pending.has(type)));
      const expectedAt = prev ? prev.nextSibling : el.settingsList.firstChild;
      if (expectedAt !== li) el.settingsList.insertBefore(li, expectedAt);
      prev = li;
    }
    for (const li of rows.values()) li.remove();
  }

  // ---- language ---------------------------------------------------------------------

  function applyLanguage() {
    const lang = getLang();
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
    for (const node of document.querySelectorAll('[data-i18n-aria-label]')) node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
    el.lang.dataset.lang = lang;
    el.lang.setAttribute('aria-label', t('lang.label'));
    el.lang.title = t('lang.label');
    el.settingsButton.setAttribute('aria-label', t('settings.open'));
    el.settingsButton.title = t('settings.open');
    setStatus(ui.status);
    setUnread(ui.unread);
    setUser(ui.me);
    setFilterOptions(ui.filterTypes, ui.filterValue);
    if (settingsTypes) renderSettings(settingsTypes);
    // list items re-render on the next renderList() (entry.lang changed)
  }

  return {
    applyLanguage,
    setStatus,
    setUnread,
    setUnreadOnly,
    setUser,
    setFilterOptions,
    showSignIn,
    showSignInError,
    showFeed,
    showBanner,
    hideBanner,
    toast,
    announce,
    renderList,
    refreshTimes,
    openSettings,
    isSettingsOpen,
    setSettingsStatus,
    renderSettings,
  };
}
