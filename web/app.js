// Bootstrap + state. Wires the REST client, the socket and the view together.

import { ApiError, createApi } from './api.js';
import { SignalSocket, wsUrlFor, backoffDelay } from './ws.js';
import { detectLang, setLang, getLang, t, typeLabel } from './i18n.js';
import { compareIds, maxId } from './ids.js';
import {
  findSignal,
  markRead,
  markReadUpTo,
  mergeSignal,
  newestId,
  normalizeSignals,
  replaceWithPage,
  setReadFlag,
  trimOldest,
  visibleSignals,
} from './store.js';
import { orderTypes } from './types.js';
import { createView } from './view.js';

const TOKEN_KEY = 'signalgate.token';
const LANG_KEY = 'signalgate.lang';
const PAGE_SIZE = 50;
const TIME_REFRESH_MS = 30_000;
const ANNOUNCE_BATCH_MS = 1200;
const BANNER_AFTER_ATTEMPTS = 3;

const storage = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      /* storage disabled: keep working for this page load */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

const state = {
  token: null,
  me: null,
  signals: [], // ascending by stream id
  loaded: false, // first REST page arrived
  unread: 0,
  filter: 'all',
  unreadOnly: false,
  keepVisible: new Set(), // read while in unread-only mode; stay until the filter changes
  settings: null, // {type: bool} once loaded
  settingsPending: new Set(),
  settingsWanted: new Map(), // type -> bool still to be PUT
};

let session = 0; // bumped on every sign-in/out; async results from older sessions are dropped
let socket = null;
let bootTimer = null;
let bootAttempt = 0;
let renderTimer = null;
let filterKey = '';
let replayedNew = 0;
let announceQueue = [];
let announceTimer = null;
const pendingFlash = new Set();
const pendingEnter = new Set();

const api = createApi({ getToken: () => state.token });

const view = createView({
  onSignIn: (token) => startSession(token),
  onSignOut: () => signOut(),
  onToggleLang,
  onOpenSettings,
  onSettingToggle,
  onToggleUnreadOnly,
  onMarkAllRead,
  onFilter,
  onItemActivate,
});

// ---- helpers -----------------------------------------------------------------

function errorMessage(err) {
  if (err?.status === 0) return t('error.network');
  return err?.detail || t('error.generic');
}

function setUnread(n) {
  if (!Number.isFinite(n)) return;
  state.unread = n;
  view.setUnread(n);
}

function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(render, 16); // coalesces bursts (replays) into one paint
}

function render() {
  renderTimer = null;
  if (!state.token) return;
  const types = orderTypes([...state.signals.map((s) => s.type), ...Object.keys(state.settings || {})]);
  const key = `${getLang()}|${types.join(',')}`;
  if (key !== filterKey) {
    filterKey = key;
    view.setFilterOptions(types, state.filter);
  }
  const filtered = state.filter !== 'all' || state.unreadOnly;
  view.renderList(
    visibleSignals(state.signals, { type: state.filter, unreadOnly: state.unreadOnly, keep: state.keepVisible }),
    {
      flash: pendingFlash,
      entering: pendingEnter,
      emptyKey: !state.loaded ? 'list.loading' : filtered ? 'list.emptyFiltered' : 'list.empty',
    },
  );
  pendingFlash.clear();
  pendingEnter.clear();
}

function queueAnnouncement(signal) {
  announceQueue.push(signal);
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    const batch = announceQueue;
    announceQueue = [];
    announceTimer = null;
    if (batch.length === 1) {
      const s = batch[0];
      view.announce(
        t('announce.one', { type: typeLabel(s.type), name: s.contact?.name || t('contact.unknown'), title: s.title || '' }),
      );
    } else if (batch.length > 1) {
      view.announce(t('announce.many', { n: batch.length }));
    }
  }, ANNOUNCE_BATCH_MS);
}

/** Read `#token=...` from the URL fragment, store it and strip it from the URL. */
function takeTokenFromFragment() {
  const hash = location.hash.replace(/^#/, '');
  if (!hash) return null;
  const parts = hash.split('&');
  const i = parts.findIndex((p) => p.startsWith('token='));
  if (i < 0) return null;
  let token = parts[i].slice('token='.length);
  try {
    token = decodeURIComponent(token); // not URLSearchParams: it would turn '+' into ' '
  } catch {
    /* keep raw */
  }
  parts.splice(i, 1);
  const rest = parts.join('&');
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  token = token.trim();
  if (!token) return null;
  storage.set(TOKEN_KEY, token);
  return token;
}

// ---- session -------------------------------------------------------------------

function stopSocket() {
  socket?.stop();
  socket = null;
}

function resetState() {
  state.me = null;
  state.signals = [];
  state.loaded = false;
  state.filter = 'all';
  state.unreadOnly = false;
  state.keepVisible.clear();
  state.settings = null;
  state.settingsPending.clear();
  state.settingsWanted.clear();
  replayedNew = 0;
  filterKey = '';
  setUnread(0);
  view.setUnreadOnly(false);
}

function startSession(token) {
  clearTimeout(bootTimer);
  stopSocket();
  const my = ++session;
  state.token = token;
  storage.set(TOKEN_KEY, token);
  resetState();
  bootAttempt = 0;
  view.showFeed();
  view.setStatus('connecting');
  scheduleRender();
  boot(my);
}

async function boot(my) {
  try {
    const me = await api.me();
    if (my !== session) return;
    state.me = me;
    view.setUser(me);
    const page = await api.listSignals({ limit: PAGE_SIZE });
    if (my !== session) return;
    state.signals = trimOldest(normalizeSignals(page.signals));
    state.loaded = true;
    setUnread(page.unread);
    view.hideBanner();
    scheduleRender();
    // Resume point: newest loaded id (or the server's cursor, if it sends one),
    // so nothing that happens between this load and the socket is lost.
    connectSocket(maxId(page.cursor, newestId(state.signals)));
  } catch (err) {
    if (my !== session) return;
    if (err?.unauthorized) {
      signOut(t('signin.rejected'), err.detail);
      return;
    }
    if (!(err instanceof ApiError)) console.error('signalgate: boot failed', err);
    view.setStatus('reconnecting');
    view.showBanner(errorMessage(err));
    bootTimer = setTimeout(() => my === session && boot(my), backoffDelay(bootAttempt++, 1000, 15000));
  }
}

function connectSocket(cursor) {
  const my = session;
  const s = new SignalSocket({ url: wsUrlFor(location), token: state.token, cursor });
  socket = s;
  const guard = (fn) => (arg) => {
    if (my === session && socket === s) fn(arg);
  };
  s.on('state', guard((st) => st !== 'stopped' && view.setStatus(st)));
  s.on('welcome', guard((f) => setUnread(f.unread)));
  s.on('signal', guard(({ signal, replay }) => onSignal(signal, replay)));
  s.on('unread', guard((n) => setUnread(n)));
  s.on('gap', guard(() => reloadList(my)));
  s.on('live', guard(() => {
    view.hideBanner();
    if (replayedNew > 0) view.announce(t('announce.many', { n: replayedNew }));
    replayedNew = 0;
  }));
  s.on('retry', guard(({ attempt }) => {
    if (attempt >= BANNER_AFTER_ATTEMPTS) view.showBanner(t('error.network'));
  }));
  s.on('auth-failed', guard(() => signOut(t('signin.rejected'))));
  s.start();
}

function signOut(message, detail) {
  session++;
  clearTimeout(bootTimer);
  stopSocket();
  storage.remove(TOKEN_KEY);
  state.token = null;
  resetState();
  view.setStatus('signed-out');
  view.showSignIn(message, detail);
}

function handleApiError(err, my) {
  if (my !== session) return;
  if (err?.unauthorized) signOut(t('signin.rejected'), err.detail);
  else view.toast(errorMessage(err));
}

// ---- live updates ----------------------------------------------------------------

function onSignal(signal, replay) {
  const { list, change } = mergeSignal(state.signals, signal);
  if (change === 'none') return;
  state.signals = trimOldest(list);
  const id = String(signal.id);
  if (change === 'update') {
    pendingFlash.add(id); // grouped signal: same place, new count/body/time
  } else {
    pendingEnter.add(id);
    if (replay) replayedNew++;
    else queueAnnouncement(signal);
  }
  scheduleRender();
}

/** `gap`: history was trimmed past our cursor; reload the newest page via REST. */
async function reloadList(my) {
  try {
    const page = await api.listSignals({ limit: PAGE_SIZE });
    if (my !== session) return;
    state.signals = trimOldest(replaceWithPage(state.signals, page.signals));
    setUnread(page.unread);
    socket?.advanceCursor(maxId(page.cursor, newestId(state.signals)));
    scheduleRender();
    view.toast(t('gap.reloaded'));
  } catch (err) {
    handleApiError(err, my);
  }
}

// ---- user actions ------------------------------------------------------------------

async function onItemActivate(id) {
  const s = findSignal(state.signals, id);
  if (!s || s.read) return;
  const my = session;
  if (state.unreadOnly) state.keepVisible.add(s.id);
  state.signals = markRead(state.signals, [s.id]);
  scheduleRender();
  try {
    const res = await api.markRead({ ids: [s.id] });
    if (my === session) setUnread(res.unread);
  } catch (err) {
    if (my !== session) return;
    state.signals = setReadFlag(state.signals, s.id, false);
    scheduleRender();
    handleApiError(err, my);
  }
}

async function onMarkAllRead() {
  const upTo = newestId(state.signals);
  if (!upTo) return;
  const my = session;
  const wasUnread = state.signals.filter((s) => !s.read && compareIds(s.id, upTo) <= 0).map((s) => s.id);
  if (state.unreadOnly) wasUnread.forEach((id) => state.keepVisible.add(id));
  state.signals = markReadUpTo(state.signals, upTo);
  scheduleRender();
  try {
    const res = await api.markRead({ up_to: upTo });
    if (my === session) setUnread(res.unread);
  } catch (err) {
    if (my !== session) return;
    for (const id of wasUnread) state.signals = setReadFlag(state.signals, id, false);
    scheduleRender();
    handleApiError(err, my);
  }
}

function onFilter(value) {
  state.filter = value || 'all';
  scheduleRender();
}

function onToggleUnreadOnly() {
  state.unreadOnly = !state.unreadOnly;
  state.keepVisible.clear();
  view.setUnreadOnly(state.unreadOnly);
  scheduleRender();
}

function onToggleLang() {
  const lang = setLang(getLang() === 'ja' ? 'en' : 'ja');
  storage.set(LANG_KEY, lang);
  view.applyLanguage();
  filterKey = '';
  scheduleRender();
}

// ---- settings ------------------------------------------------------------------------

function settingsRows() {
  const s = state.settings || {};
  return orderTypes(Object.keys(s))
    .filter((type) => type in s)
    .map((type) => [type, !!s[type]]);
}

async function onOpenSettings() {
  const my = session;
  view.setSettingsStatus('');
  view.renderSettings(state.settings ? settingsRows() : null, state.settingsPending);
  view.openSettings();
  if (state.settingsPending.size) return; // a save is in flight; don't clobber it
  try {
    const res = await api.getSettings();
    if (my !== session || state.settingsPending.size) return;
    state.settings = { ...(res.types || {}) };
    view.setSettingsStatus('');
    view.renderSettings(settingsRows(), state.settingsPending);
    scheduleRender();
  } catch (err) {
    if (my !== session) return;
    if (err?.unauthorized) signOut(t('signin.rejected'), err.detail);
    else view.setSettingsStatus(errorMessage(err), true);
  }
}

/** Toggle a type; PUTs are serialised per type, the latest wish wins. */
function onSettingToggle(type, enabled) {
  state.settings = { ...(state.settings || {}), [type]: enabled };
  state.settingsWanted.set(type, enabled);
  if (!state.settingsPending.has(type)) flushSetting(type);
}

async function flushSetting(type) {
  const my = session;
  state.settingsPending.add(type);
  view.renderSettings(settingsRows(), state.settingsPending);
  while (state.settingsWanted.has(type)) {
    const want = state.settingsWanted.get(type);
    state.settingsWanted.delete(type);
    try {
      const res = await api.putSettings({ [type]: want });
      if (my !== session) return;
      if (!state.settingsWanted.has(type)) state.settings = { ...state.settings, ...(res.types || {}) };
      view.setSettingsStatus('');
    } catch (err) {
      if (my !== session) return;
      if (err?.unauthorized) {
        signOut(t('signin.rejected'), err.detail);
        return;
      }
      if (!state.settingsWanted.has(type)) state.settings = { ...state.settings, [type]: !want };
      view.setSettingsStatus(errorMessage(err), true);
    }
  }
  state.settingsPending.delete(type);
  view.renderSettings(settingsRows(), state.settingsPending);
}

// ---- start ---------------------------------------------------------------------------

function init() {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  setLang(detectLang(storage.get(LANG_KEY), langs), langs[0]);
  view.applyLanguage();

  const token = takeTokenFromFragment() || storage.get(TOKEN_KEY);
  if (token) startSession(token);
  else signOut();

  setInterval(() => view.refreshTimes(), TIME_REFRESH_MS);
  window.addEventListener('online', () => socket?.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    socket?.reconnectNow();
    view.refreshTimes();
  });
  // Opening a new `#token=` link in an already-open tab.
  window.addEventListener('hashchange', () => {
    const fresh = takeTokenFromFragment();
    if (fresh) startSession(fresh);
  });
  // Sign-in / sign-out in another tab.
  window.addEventListener('storage', (e) => {
    if (e.key !== TOKEN_KEY && e.key !== null) return;
    const stored = storage.get(TOKEN_KEY);
    if (!stored && state.token) signOut();
    else if (stored && stored !== state.token) startSession(stored);
  });
}

init();
