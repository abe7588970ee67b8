// Bootstrap: language, sign-in from `#token=...` (stripped from the address), the hash router,
// and one render of the shell (shell.js) per state change.

import { html, render } from './ui.js';
import { detectLang, setLang } from './i18n.js';
import { parseHash } from './route.js';
import { LANG_KEY, TOKEN_KEY, createController, storage } from './controller.js';
import { App } from './shell.js';
import { leaveQuestion, mayLeave } from './leave.js';

const TIME_REFRESH_MS = 30_000;
const root = document.getElementById('app');
let scheduled = false;

const ctl = createController({ onChange: schedule });

function schedule() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(paint);
}

function paint() {
  scheduled = false;
  document.documentElement.lang = ctl.state.lang;
  const n = ctl.state.unread;
  document.title = ctl.state.token && n > 0 ? `(${n > 99 ? '99+' : n}) signalgate` : 'signalgate';
  render(html`<${App} st=${{ ...ctl.state }} act=${ctl.actions} api=${ctl.api} />`, root);
}

/** Read the address: a `#token=` signs in (and is removed from the URL); the rest is the route. */
function readHash() {
  const { token, route, rest } = parseHash(location.hash);
  if (token) {
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  ctl.actions.setRoute(route);
  return token;
}

function init() {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  ctl.state.lang = setLang(detectLang(storage.get(LANG_KEY), langs), langs[0]);
  const token = readHash() || storage.get(TOKEN_KEY);
  if (token) ctl.actions.startSession(token);
  else ctl.actions.signOut();

  setInterval(schedule, TIME_REFRESH_MS); // relative times
  window.addEventListener('online', () => ctl.actions.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    ctl.actions.reconnectNow();
    schedule();
  });
  // An unsaved draft (the call-flow editor): leaving the view asks first; "stay" puts the address back.
  let address = location.href;
  window.addEventListener('hashchange', () => {
    if (!parseHash(location.hash).token && !mayLeave((q) => window.confirm(q))) {
      history.replaceState(history.state, '', address);
      schedule(); // controls that moved (the phone's view select) show the view still open
      return;
    }
    const fresh = readHash();
    address = location.href;
    if (fresh && fresh !== ctl.state.token) ctl.actions.startSession(fresh);
  });
  window.addEventListener('beforeunload', (e) => {
    if (!leaveQuestion()) return;
    e.preventDefault();
    e.returnValue = ''; // the browser asks in its own words
  });
  // Sign-in / sign-out in another tab.
  window.addEventListener('storage', (e) => {
    if (e.key !== TOKEN_KEY && e.key !== null) return;
    const stored = storage.get(TOKEN_KEY);
    if (!stored && ctl.state.token) ctl.actions.signOut();
    else if (stored && stored !== ctl.state.token) ctl.actions.startSession(stored);
  });
}

init();
