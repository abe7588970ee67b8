// The page's state and everything that changes it: the REST calls, the live socket, the
// user's actions. Components (shell.js, feed.js, dialogs.js) read `state` and call `actions`;
// every change schedules one re-render through `onChange`.

import { ApiError, createApi } from './api.js';
import { SignalSocket, wsUrlFor, backoffDelay } from './ws.js';
import { getLang, setLang, t, typeLabel } from './i18n.js';
import { compareIds, maxId } from './ids.js';
import {
  applyState,
  defaultQuery,
  feedParams,
  findSignal,
  matchesQuery,
  mergeOlder,
  mergeSignal,
  newestId,
  normalizeSignals,
  oldestId,
  removeIds,
  replaceWithPage,
  revealPatch,
} from './store.js';
import { askPermission, permission, shouldNotify, showNotification } from './notify.js';

export const TOKEN_KEY = 'signalgate.token';
export const LANG_KEY = 'signalgate.lang';
const NOTIFY_KEY = 'signalgate.notify';
export const PAGE_SIZE = 50;
const BANNER_AFTER_ATTEMPTS = 3;
const COUNTS_DEBOUNCE_MS = 250;

export const storage = {
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

/** The API's error in the user's language: a known code's own sentence, else the server's detail. */
export function errorText(err) {
  if (!err) return t('error.generic');
  if (err.status === 0) return t('error.network');
  const key = `action.${err.code}`;
  const s = t(key);
  if (s !== key) return s;
  return err.detail || t('error.generic');
}

function uuid() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function freshState() {
  return {
    token: null,
    me: null,
    status: 'signed-out',
    signinError: null,
    query: defaultQuery(),
    signals: [], // ascending by id: what the current query has loaded
    loaded: false,
    loadingOlder: false,
    hasOlder: false,
    unread: 0,
    counts: null, // {unread, by_type} or null when unknown
    banner: null,
    toast: null,
    itemErrors: {}, // id → message shown on the item
    keep: new Set(), // ids that stay listed though they left the query (read in unread-only)
    settings: null,
    settingsOpen: false,
    settingsError: null,
    settingsPending: new Set(),
    reply: null, // {signal, templates, template, data, error, sending, key}
    notifyEnabled: storage.get(NOTIFY_KEY) === '1',
    notifyPermission: permission(),
    announce: '',
    reveal: null, // a signal id whose item takes the focus once listed (its notification was clicked)
  };
}

export function createController({ onChange }) {
  const state = { ...freshState(), lang: getLang(), route: { name: 'feed', id: null } };
  const api = createApi({ getToken: () => state.token });
  let session = 0;
  let socket = null;
  let bootTimer = null;
  let bootAttempt = 0;
  let countsTimer = null;
  let toastTimer = null;
  let refillTimer = null;
  let listGen = 0; // bumped on every query change: older pages of an old query are dropped
  const settingsWanted = new Map();

  const changed = () => onChange();
  const set = (patch) => {
    Object.assign(state, patch);
    changed();
  };

  function toast(message) {
    clearTimeout(toastTimer);
    set({ toast: message });
    toastTimer = setTimeout(() => set({ toast: null }), 4000);
  }

  function setUnread(n) {
    if (Number.isFinite(n)) set({ unread: n });
  }

  function itemError(id, message) {
    const itemErrors = { ...state.itemErrors };
    if (message) itemErrors[id] = message;
    else delete itemErrors[id];
    set({ itemErrors });
  }

  function handleAuth(err, my) {
    if (my !== session) return true;
    if (err?.unauthorized) {
      signOut(t('signin.rejected'));
      return true;
    }
    return false;
  }

  // ---- counts (per type, for the filters) -------------------------------------------

  function refreshCounts() {
    clearTimeout(countsTimer);
    const my = session;
    countsTimer = setTimeout(async () => {
      try {
        const counts = await api.counts();
        if (my === session) set({ counts, unread: Number.isFinite(counts.unread) ? counts.unread : state.unread });
      } catch (err) {
        if (!handleAuth(err, my) && err?.status === 404) set({ counts: null });
      }
    }, COUNTS_DEBOUNCE_MS);
  }

  // ---- session -------------------------------------------------------------------------

  function stopSocket() {
    socket?.stop();
    socket = null;
  }

  function startSession(token) {
    clearTimeout(bootTimer);
    stopSocket();
    const my = ++session;
    storage.set(TOKEN_KEY, token);
    Object.assign(state, freshState(), { token, status: 'connecting' });
    bootAttempt = 0;
    changed();
    boot(my);
  }

  async function boot(my) {
    try {
      const me = await api.me();
      if (my !== session) return;
      set({ me });
      const page = await loadFirstPage(my);
      if (my !== session || !page) return;
      refreshCounts();
      // Resume point: the newest id the server has for this user (its cursor) or the newest
      // loaded, so nothing between this load and the socket is lost.
      connectSocket(maxId(page.cursor, newestId(state.signals)));
    } catch (err) {
      if (handleAuth(err, my)) return;
      if (!(err instanceof ApiError)) console.error('signalgate: boot failed', err);
      set({ status: 'reconnecting', banner: errorText(err) });
      bootTimer = setTimeout(() => my === session && boot(my), backoffDelay(bootAttempt++, 1000, 15000));
    }
  }

  /** The newest page of the current query (replacing the list; live arrivals kept). */
  async function loadFirstPage(my = session) {
    const gen = ++listGen;
    const query = state.query;
    const page = await api.listSignals(feedParams(query, { limit: PAGE_SIZE }));
    if (my !== session || gen !== listGen) return null;
    const kept = state.loaded ? state.signals.filter((s) => matchesQuery(s, query)) : [];
    const signals = replaceWithPage(kept, page.signals || []);
    set({
      signals,
      loaded: true,
      hasOlder: (page.signals || []).length >= PAGE_SIZE,
      banner: null,
      keep: new Set(),
    });
    setUnread(page.unread);
    return page;
  }

  function connectSocket(cursor) {
    const my = session;
    const s = new SignalSocket({ url: wsUrlFor(location), token: state.token, cursor });
    socket = s;
    const guard = (fn) => (arg) => {
      if (my === session && socket === s) fn(arg);
    };
    s.on('state', guard((st) => st !== 'stopped' && set({ status: st })));
    s.on('welcome', guard((f) => setUnread(f.unread)));
    s.on('signal', guard(({ signal, replay }) => onSignal(signal, replay)));
    s.on('signal-state', guard((frame) => onStateFrame(frame)));
    s.on('unread', guard((n) => {
      setUnread(n);
      refreshCounts();
    }));
    s.on('gap', guard(() => reload()));
    s.on('live', guard(() => {
      set({ banner: null });
      refreshCounts();
    }));
    s.on('retry', guard(({ attempt }) => {
      if (attempt >= BANNER_AFTER_ATTEMPTS) set({ banner: t('error.network') });
    }));
    s.on('auth-failed', guard(() => signOut(t('signin.rejected'))));
    s.start();
  }

  function signOut(message = null) {
    session++;
    clearTimeout(bootTimer);
    stopSocket();
    storage.remove(TOKEN_KEY);
    Object.assign(state, freshState(), { signinError: message });
    changed();
  }

  // ---- live updates ------------------------------------------------------------------------

  function onSignal(signal, replay) {
    if (!signal) return;
    maybeNotify(signal, replay);
    const id = String(signal.id);
    const present = findSignal(state.signals, id);
    if (!matchesQuery(signal, state.query)) {
      // e.g. a snoozed signal woke up while the snoozed tab is open: it leaves this view.
      if (present && !state.keep.has(id)) set({ signals: removeIds(state.signals, [id]) });
      refreshCounts();
      return;
    }
    // Paged back only so far: an older id than the oldest loaded belongs to a page not yet seen.
    if (!present && state.hasOlder && state.signals.length && compareIds(id, oldestId(state.signals)) < 0) return;
    const { list, change } = mergeSignal(state.signals, signal);
    if (change === 'none') return;
    set({ signals: list });
    refreshCounts();
    if (change === 'insert' && !replay) {
      set({ announce: t('announce.one', { type: typeLabel(signal.type), name: signal.contact?.name || t('contact.unknown'), title: signal.title || '' }) });
    }
  }

  /** A desktop notification for a live signal, whatever this page's view or filters show. */
  function maybeNotify(signal, replay) {
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    if (shouldNotify({ enabled: state.notifyEnabled, permission: permission(), hidden, replay, signal })) {
      showNotification(signal, state.lang, () => revealSignal(signal));
    }
  }

  /**
   * Its notification was clicked (the tab is already in front): the feed, with only the filters
   * that hide the signal dropped (revealPatch), and the signal's item focused once it is listed.
   */
  function revealSignal(signal) {
    if (state.route?.name === 'admin' && globalThis.location) globalThis.location.hash = '#/';
    set({ reveal: String(signal.id) });
    const patch = revealPatch(state.query, signal);
    if (patch) setQuery(patch);
  }

  function revealed() {
    set({ reveal: null });
  }

  function onStateFrame(frame) {
    const { list } = applyState(state.signals, frame, state.query, { keep: state.keep });
    set({ signals: list });
    refreshCounts();
    // Ids this list does not hold may have just entered its view (unarchived in another tab, ...).
    const missing = (frame.ids || []).filter((id) => !findSignal(list, String(id)));
    if (missing.length && mayEnter(frame, state.query)) refill();
  }

  /** Re-read the span of the current query this page holds (newer than its oldest item). */
  function refill() {
    clearTimeout(refillTimer);
    const my = session;
    refillTimer = setTimeout(async () => {
      const oldest = oldestId(state.signals);
      if (!oldest || !state.hasOlder) {
        reload();
        return;
      }
      const gen = listGen;
      try {
        const page = await api.listSignals(feedParams(state.query, { after: oldest, limit: 500 }));
        if (my !== session || gen !== listGen) return;
        let list = state.signals;
        for (const s of page.signals || []) list = mergeSignal(list, s).list;
        set({ signals: list });
      } catch (err) {
        handleAuth(err, my);
      }
    }, 150);
  }

  /** `gap` or a query change: the newest page again, via REST. */
  async function reload() {
    const my = session;
    try {
      const page = await loadFirstPage(my);
      if (page) socket?.advanceCursor(maxId(page.cursor, null));
      refreshCounts();
    } catch (err) {
      if (!handleAuth(err, my)) set({ banner: errorText(err) });
    }
  }

  // ---- user actions -------------------------------------------------------------------------

  async function loadOlder() {
    if (state.loadingOlder || !state.hasOlder || !state.loaded) return;
    const before = oldestId(state.signals);
    if (!before) return;
    const my = session;
    const gen = listGen;
    set({ loadingOlder: true });
    try {
      const page = await api.listSignals(feedParams(state.query, { before, limit: PAGE_SIZE }));
      if (my !== session || gen !== listGen) return;
      const got = page.signals || [];
      // Only what is older than the oldest shown: never a duplicate, never a hole.
      const older = got.filter((s) => compareIds(String(s.id), before) < 0);
      const { list, added } = mergeOlder(state.signals, older);
      set({ signals: list, hasOlder: got.length >= PAGE_SIZE && added > 0, loadingOlder: false });
    } catch (err) {
      if (my !== session) return;
      set({ loadingOlder: false });
      if (!handleAuth(err, my)) toast(errorText(err));
    }
  }

  function setQuery(patch) {
    const query = { ...state.query, ...patch };
    set({ query, loaded: false, signals: [], hasOlder: false, keep: new Set(), itemErrors: {} });
    reload();
  }

  /**
   * Change the state of `ids` (op: read | unread | archive | unarchive | snooze) optimistically;
   * the server's `state` frame confirms it in every other tab. Rolls back and shows the error
   * on the item if the call fails.
   */
  async function signalOp(op, ids, { until, keep = false } = {}) {
    const my = session;
    const fields = {
      read: { read: true },
      unread: { read: false },
      archive: { archived: true },
      unarchive: { archived: false, snoozed_until: null },
      snooze: { snoozed_until: until },
    }[op];
    const before = state.signals;
    const keepSet = new Set(state.keep);
    if (keep) ids.forEach((id) => keepSet.add(id));
    const { list } = applyState(state.signals, { ids, ...fields }, state.query, { keep: keepSet });
    ids.forEach((id) => itemError(id, null));
    set({ signals: list, keep: keepSet });
    try {
      const body = op === 'snooze' ? { ids, until } : { ids };
      const res = await api.signalOp(op, body);
      if (my !== session) return;
      setUnread(res.unread);
      refreshCounts();
    } catch (err) {
      if (handleAuth(err, my)) return;
      // Put back what this call changed (merge, so live arrivals in between stay).
      let restored = state.signals;
      for (const id of ids) {
        const old = findSignal(before, id);
        if (old) restored = mergeSignal(restored, old).list;
      }
      set({ signals: restored });
      itemError(ids[0], errorText(err));
    }
  }

  /** Open an item (a click): marks it read; the link itself opens the CRM record. */
  function openItem(id) {
    const s = findSignal(state.signals, id);
    if (s && !s.read) signalOp('read', [s.id], { keep: true });
  }

  /** "Mark all read" on the current view: up_to the newest shown when unfiltered, else the ids. */
  async function markAllRead() {
    const upTo = newestId(state.signals);
    if (!upTo) return;
    const my = session;
    const q = state.query;
    const unreadIds = state.signals.filter((s) => !s.read).map((s) => s.id);
    const filtered = q.types.length || q.contact || q.view !== 'inbox';
    const keepSet = new Set(state.keep);
    if (q.unreadOnly) unreadIds.forEach((id) => keepSet.add(id));
    const before = state.signals;
    const { list } = applyState(state.signals, { ids: unreadIds, read: true }, q, { keep: keepSet });
    set({ signals: list, keep: keepSet });
    try {
      const res = await api.signalOp('read', filtered ? { ids: unreadIds } : { up_to: upTo });
      if (my !== session) return;
      setUnread(res.unread);
      refreshCounts();
    } catch (err) {
      if (handleAuth(err, my)) return;
      set({ signals: before });
      toast(errorText(err));
    }
  }

  async function loadMembers(id) {
    const res = await api.events(id, 50);
    return { events: res.events || [], count: res.count ?? (res.events || []).length };
  }

  // ---- reply by SMS ------------------------------------------------------------------------------

  async function openReply(id) {
    const signal = findSignal(state.signals, id);
    if (!signal) return;
    const my = session;
    set({ reply: { signal, templates: null, template: null, data: {}, error: null, sending: false, key: uuid() } });
    try {
      const res = await api.smsTemplates();
      if (my !== session || state.reply?.signal.id !== signal.id) return;
      const templates = Array.isArray(res) ? res : res.templates || [];
      set({ reply: { ...state.reply, templates, template: templates[0]?.id ?? null, data: defaultFields(templates[0], signal) } });
    } catch (err) {
      if (handleAuth(err, my) || !state.reply) return;
      set({ reply: { ...state.reply, templates: [], error: errorText(err) } });
    }
  }

  function chooseTemplate(templateId) {
    if (!state.reply) return;
    const tpl = (state.reply.templates || []).find((x) => String(x.id) === String(templateId));
    set({ reply: { ...state.reply, template: tpl?.id ?? null, data: defaultFields(tpl, state.reply.signal), error: null } });
  }

  function setReplyField(name, value) {
    if (!state.reply) return;
    set({ reply: { ...state.reply, data: { ...state.reply.data, [name]: value } } });
  }

  function closeReply() {
    set({ reply: null });
  }

  async function sendReply() {
    const r = state.reply;
    if (!r || r.sending || !r.template) return;
    const my = session;
    set({ reply: { ...r, sending: true, error: null } });
    try {
      const res = await api.act({
        signal: r.signal.id,
        action: 'sms',
        template: r.template,
        data: r.data,
        idempotency_key: r.key,
      });
      if (my !== session) return;
      const acted = { action: 'sms', notification: res.notification?.id ?? null, at: new Date().toISOString() };
      const { list } = applyState(state.signals, { ids: [r.signal.id], read: true, acted }, state.query, {
        keep: new Set([r.signal.id]),
      });
      set({ signals: list, reply: null });
      setUnread(res.unread);
      refreshCounts();
      toast(t('reply.sent'));
    } catch (err) {
      if (handleAuth(err, my) || !state.reply) return;
      // A refused send is not a send: a retry (e.g. after credits were bought) gets a new key.
      set({ reply: { ...state.reply, sending: false, error: errorText(err), key: uuid() } });
    }
  }

  // ---- call back (click-to-call) ---------------------------------------------------------------

  /** Ring the user's own phone, then dial the signal's contact; an error shows on the item. */
  async function callBack(id) {
    const signal = findSignal(state.signals, id);
    if (!signal) return;
    const my = session;
    itemError(signal.id, null);
    if (!signal.contact?.id) {
      itemError(signal.id, t('action.no_contact'));
      return;
    }
    try {
      await api.callContact(signal.contact.id);
      if (my !== session) return;
      toast(t('call.ringing'));
      if (!signal.read) signalOp('read', [signal.id], { keep: true });
    } catch (err) {
      if (!handleAuth(err, my)) itemError(signal.id, errorText(err));
    }
  }

  // ---- settings -------------------------------------------------------------------------------------

  async function openSettings() {
    const my = session;
    set({ settingsOpen: true, settingsError: null, notifyPermission: permission() });
    if (state.settingsPending.size) return;
    try {
      const res = await api.getSettings();
      if (my !== session || state.settingsPending.size) return;
      set({ settings: res });
    } catch (err) {
      if (!handleAuth(err, my)) set({ settingsError: errorText(err) });
    }
  }

  function closeSettings() {
    set({ settingsOpen: false });
  }

  /** Toggle a type (or 'reminders'); PUTs are serialised per key, the latest wish wins. */
  function toggleSetting(key, enabled) {
    const s = state.settings || { types: {} };
    const next = key === 'reminders' ? { ...s, reminders: enabled } : { ...s, types: { ...s.types, [key]: enabled } };
    settingsWanted.set(key, enabled);
    set({ settings: next });
    if (!state.settingsPending.has(key)) flushSetting(key);
  }

  async function flushSetting(key) {
    const my = session;
    state.settingsPending.add(key);
    changed();
    while (settingsWanted.has(key)) {
      const want = settingsWanted.get(key);
      settingsWanted.delete(key);
      try {
        const res = await (key === 'reminders' ? api.putSettingsBody({ reminders: want }) : api.putSettings({ [key]: want }));
        if (my !== session) return;
        if (!settingsWanted.has(key)) set({ settings: { ...state.settings, ...res, types: { ...state.settings.types, ...(res.types || {}) } } });
        set({ settingsError: null });
      } catch (err) {
        if (handleAuth(err, my)) return;
        if (!settingsWanted.has(key)) {
          const s = state.settings;
          set({ settings: key === 'reminders' ? { ...s, reminders: !want } : { ...s, types: { ...s.types, [key]: !want } } });
        }
        set({ settingsError: errorText(err) });
      }
    }
    state.settingsPending.delete(key);
    changed();
  }

  async function enableNotifications() {
    const perm = await askPermission();
    const on = perm === 'granted';
    storage.set(NOTIFY_KEY, on ? '1' : '0');
    set({ notifyPermission: perm, notifyEnabled: on });
  }

  function disableNotifications() {
    storage.set(NOTIFY_KEY, '0');
    set({ notifyEnabled: false });
  }

  // ---- language, route, lifecycle ------------------------------------------------------------------

  function toggleLang() {
    const lang = setLang(getLang() === 'ja' ? 'en' : 'ja');
    storage.set(LANG_KEY, lang);
    set({ lang });
  }

  function setRoute(route) {
    set({ route });
  }

  return {
    state,
    api,
    actions: {
      startSession,
      signOut,
      toggleLang,
      setRoute,
      setQuery,
      loadOlder,
      signalOp,
      openItem,
      markAllRead,
      loadMembers,
      openReply,
      chooseTemplate,
      setReplyField,
      closeReply,
      sendReply,
      callBack,
      openSettings,
      closeSettings,
      toggleSetting,
      enableNotifications,
      disableNotifications,
      revealed,
      reconnectNow: () => socket?.reconnectNow(),
    },
  };
}

/** Whether a state change can bring signals INTO a view (so ids the list lacks must be fetched). */
export function mayEnter(frame, query) {
  const view = query?.view || 'inbox';
  if (view === 'inbox' && (frame.archived === false || frame.snoozed_until === null)) return true;
  if (view === 'archived' && frame.archived === true) return true;
  if (view === 'snoozed' && typeof frame.snoozed_until === 'string') return true;
  return !!query?.unreadOnly && frame.read === false;
}

/** Merge-field names of a template: strings or {name|key} objects, else `{{x}}` / `{x}` in its body. */
export function templateFields(tpl) {
  if (!tpl) return [];
  if (Array.isArray(tpl.fields) && tpl.fields.length) {
    return tpl.fields.map((f) => (typeof f === 'string' ? f : f?.name || f?.key)).filter(Boolean);
  }
  const names = [...String(tpl.body || '').matchAll(/\{\{\s*([\w.]+)\s*\}\}|\{([\w.]+)\}/g)].map((m) => m[1] || m[2]);
  return [...new Set(names)];
}

function defaultFields(tpl, signal) {
  const data = {};
  for (const f of templateFields(tpl)) {
    data[f] = /name$/i.test(f) && signal?.contact?.name ? signal.contact.name : '';
  }
  return data;
}

/** The template's body with the merge fields filled in (for the preview). */
export function fillTemplate(body, data) {
  return String(body || '').replace(/\{\{\s*([\w.]+)\s*\}\}|\{([\w.]+)\}/g, (m, a, b) => {
    const v = data?.[a || b];
    return v === undefined || v === '' ? m : String(v);
  });
}

export { normalizeSignals };
