// The feed: tabs (inbox / archived / snoozed), filters with counts (sent to the server as query
// parameters), the list newest first with per-item actions, and older history as you scroll.

import { html, useEffect, useLayoutEffect, useRef, useState } from './ui.js';
import { absoluteTime, getLang, localeFor, relativeTime, t, typeLabel } from './i18n.js';
import { orderTypes, typeIcon, uiIcon } from './types.js';
import { VIEWS, contactFilter, noContactFilter } from './store.js';
import { menuPlacement } from './placement.js';
import { presentSignal } from './present.js';
import { formatInZone, snoozePresets } from './zone.js';

// Call back (click-to-call, POST /api/v1/me/calls): Twilio rings the rep's phone, then dials the
// contact. Switch off here if a deployment has no telephony.
export const CALL_BACK_ENABLED = true;

function Svg({ svg, cls = 'icon' }) {
  return html`<span class=${cls} aria-hidden="true" dangerouslySetInnerHTML=${{ __html: svg }}></span>`;
}

export function Feed({ st, act }) {
  const q = st.query;
  const items = [...st.signals].reverse();
  const emptyKey = !st.loaded
    ? 'list.loading'
    : q.types.length || q.unreadOnly || q.contact
      ? 'list.emptyFiltered'
      : { inbox: 'list.empty', archived: 'list.emptyArchived', snoozed: 'list.emptySnoozed' }[q.view];
  return html`
    <section class="feed-view" aria-labelledby="feed-title">
      <h1 id="feed-title" class="sr-only">${t('list.label')}</h1>
      <${Toolbar} st=${st} act=${act} />
      ${st.banner && html`<div id="banner" class="banner" role="alert">${st.banner}</div>`}
      <ul id="signal-list" class="signal-list" aria-label=${t('list.label')} aria-busy=${st.loaded ? 'false' : 'true'}>
        ${items.map((s) => html`<${SignalItem} key=${s.id} s=${s} st=${st} act=${act} />`)}
      </ul>
      ${items.length === 0 && html`<p id="empty-state" class="empty-state">${t(emptyKey)}</p>`}
      <${Older} st=${st} act=${act} />
    </section>
  `;
}

function Toolbar({ st, act }) {
  const q = st.query;
  return html`
    <div class="toolbar">
      <div class="tabs" role="group" aria-label=${t('views.label')}>
        ${VIEWS.map((v) => html`
          <button type="button" key=${v} class="tab" data-view=${v} aria-pressed=${q.view === v ? 'true' : 'false'}
                  onClick=${() => q.view !== v && act.setQuery({ view: v })}>
            ${t(`view.${v}`)}
          </button>`)}
      </div>
      <span class="spacer"></span>
      <${ContactChip} st=${st} act=${act} />
      <${FilterMenu} st=${st} act=${act} />
      <button type="button" id="mark-all-read" class="text-button" disabled=${!st.signals.some((s) => !s.read)}
              onClick=${act.markAllRead}>${t('markAllRead')}</button>
    </div>
  `;
}

/** The contact filter ("Show only this contact" on an item) as a removable chip: "contact: 山田 太郎 ×".
 *  Removing it gives the keyboard to the filter button. */
function ContactChip({ st, act }) {
  const q = st.query;
  if (!q.contact) return null;
  const name = q.contactName || q.contact;
  const remove = () => {
    act.setQuery(noContactFilter());
    document.getElementById('filter-button')?.focus();
  };
  return html`
    <span class="filter-chip" id="contact-chip" data-contact=${q.contact}>
      <span class="filter-chip-text">${t('filter.contactChip', { name })}</span>
      <button type="button" class="filter-chip-x" id="contact-chip-remove" aria-label=${t('filter.removeContact', { name })}
              title=${t('filter.removeContact', { name })} onClick=${remove}>×</button>
    </span>
  `;
}

/** A popover of type checkboxes with their unread counts, and "unread only". Escape closes it. */
function FilterMenu({ st, act }) {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  const button = useRef(null);
  const q = st.query;
  const byType = st.counts?.by_type || {};
  const types = orderTypes([...Object.keys(byType), ...Object.keys(st.settings?.types || {}), ...q.types]);
  const active = q.types.length + (q.unreadOnly ? 1 : 0);
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => {
      if (!root.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    root.current?.querySelector('input')?.focus();
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const toggleType = (type, on) => act.setQuery({ types: on ? [...q.types, type] : q.types.filter((x) => x !== type) });
  return html`
    <div class="filter" ref=${root} onKeyDown=${(e) => e.key === 'Escape' && open && (e.stopPropagation(), close())}>
      <button type="button" id="filter-button" class="text-button" aria-expanded=${open ? 'true' : 'false'}
              aria-controls="filter-panel" ref=${button} onClick=${() => setOpen(!open)}>
        <${Svg} svg=${uiIcon('filter', 16)} />
        <span>${t('filter.open')}</span>
        ${active > 0 && html`<span class="chip-count">${active}</span>`}
      </button>
      ${open && html`
        <div id="filter-panel" class="popover filter-panel" role="group" aria-label=${t('filter.title')}>
          <label class="check-row">
            <input type="checkbox" id="unread-only" checked=${q.unreadOnly}
                   onChange=${(e) => act.setQuery({ unreadOnly: e.currentTarget.checked })} />
            <span>${t('filter.unreadOnly')}</span>
            ${st.counts && html`<span class="row-count">${st.counts.unread}</span>`}
          </label>
          <fieldset>
            <legend>${t('filter.title')}</legend>
            ${types.map((type) => html`
              <label class="check-row" key=${type} data-type=${type}>
                <input type="checkbox" class="type-check" value=${type} data-type=${type} checked=${q.types.includes(type)}
                       onChange=${(e) => toggleType(type, e.currentTarget.checked)} />
                <${Svg} cls="type-icon small" svg=${typeIcon(type, 14)} />
                <span class="grow">${typeLabel(type)}</span>
                ${st.counts && html`<span class="row-count" aria-label=${t('bell.label', { n: byType[type] || 0 })}>${byType[type] || 0}</span>`}
              </label>`)}
          </fieldset>
          <div class="popover-actions">
            <button type="button" class="text-button" disabled=${!active}
                    onClick=${() => act.setQuery({ types: [], unreadOnly: false })}>${t('filter.clear')}</button>
            <button type="button" class="text-button" onClick=${close}>${t('settings.close')}</button>
          </div>
        </div>`}
    </div>
  `;
}

/** The "load older" button (the keyboard's way) and the sentinel that loads as you scroll. */
function Older({ st, act }) {
  const sentinel = useRef(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !st.hasOlder || typeof IntersectionObserver !== 'function') return undefined;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) act.loadOlder();
    }, { rootMargin: '400px 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [st.hasOlder, st.signals.length, st.loadingOlder]);
  if (!st.loaded || !st.signals.length) return null;
  return html`
    <div class="older">
      ${st.hasOlder
        ? html`<button type="button" id="load-older" class="text-button" disabled=${st.loadingOlder} onClick=${act.loadOlder}>
            ${st.loadingOlder ? t('list.loadingOlder') : t('list.older')}
          </button>`
        : html`<p class="muted end-of-list">${t('list.end')}</p>`}
      <div ref=${sentinel} class="sentinel" aria-hidden="true"></div>
    </div>
  `;
}

function signalTime(s) {
  return s.occurred_at || null;
}

function SignalItem({ s, st, act }) {
  const lang = getLang();
  const p = presentSignal(s, lang);
  const [expanded, setExpanded] = useState(false);
  const [members, setMembers] = useState(null); // null | {loading} | {events, count} | {error}
  const count = Number(s.count) || 1;
  const record = s.links?.record && /^https?:\/\//i.test(s.links.record) ? s.links.record : null;
  const error = st.itemErrors[s.id];
  const tz = st.me?.timezone;
  const snoozed = s.snoozed_until && Date.parse(s.snoozed_until) > Date.now();
  const cls = ['signal', s.read ? '' : 'is-unread', expanded ? 'is-expanded' : '', s.acted ? 'is-acted' : ''].filter(Boolean).join(' ');
  const li = useRef(null);

  // Its desktop notification was clicked: bring the item into view and give it the focus.
  useEffect(() => {
    if (st.reveal !== String(s.id) || !li.current) return;
    li.current.scrollIntoView?.({ block: 'nearest' });
    li.current.querySelector('.signal-main')?.focus();
    act.revealed();
  }, [st.reveal, s.id]);

  const onOpen = () => {
    act.openItem(s.id);
    if (!record) setExpanded(!expanded);
  };
  const toggleMembers = async () => {
    if (members && !members.loading) {
      setMembers(null);
      return;
    }
    setMembers({ loading: true });
    try {
      setMembers(await act.loadMembers(s.id));
    } catch (err) {
      setMembers({ error: err?.detail || t('error.generic') });
    }
  };

  const content = html`
    <${Svg} cls="type-icon" svg=${typeIcon(s.type, 20)} />
    <span class="signal-content">
      <span class="line1">
        <span class=${p.known ? 'contact' : 'contact is-unknown'}>${p.name}</span>
        ${p.company && html`<span class="company">${p.company}</span>`}
        ${count > 1 && html`<span class="count" aria-label=${t('item.count', { n: count })}>${count}</span>`}
        ${p.kind && ['lead', 'contact', 'customer'].includes(p.kind) && html`<span class="kind-tag tag">${t(`kind.${p.kind}`)}</span>`}
        <span class="spacer"></span>
        ${!s.read && html`<span class="unread-dot"><span class="sr-only">${t('item.unread')}</span></span>`}
        <time class="time" datetime=${signalTime(s)} title=${absoluteTime(signalTime(s))}>${relativeTime(signalTime(s))}</time>
      </span>
      <span class="line2">
        <span class="type-label">${p.type}</span>
        ${s.type === 'email.bounced' && s.data?.bounce && html`<span class="bounce-tag tag">${t(`bounce.${s.data.bounce}`)}</span>`}
        ${p.title && html`<span class="title">${p.title}</span>`}
      </span>
      ${p.body && html`<span class="body">${p.body}</span>`}
      ${(snoozed || s.acted) && html`
        <span class="line3">
          ${snoozed && html`<span class="tag snooze-tag">${t('view.snoozed')} · ${t('item.snoozedUntil', { time: formatInZone(Date.parse(s.snoozed_until), tz, localeFor(lang)) })}</span>`}
          ${s.acted && html`<span class="tag acted-tag">✓ ${t('item.acted')}</span>`}
        </span>`}
    </span>
  `;
  return html`
    <li ref=${li} class=${cls} data-id=${s.id} data-type=${s.type} data-bounce=${s.data?.bounce || undefined}
        data-read=${s.read ? 'true' : 'false'}>
      <div class="signal-row">
        ${record
          ? html`<a class="signal-main" href=${record} target="_blank" rel="noopener noreferrer" onClick=${onOpen}
                    title=${t('item.openRecord')}>${content}</a>`
          : html`<button type="button" class="signal-main" aria-expanded=${expanded ? 'true' : 'false'} onClick=${onOpen}>${content}</button>`}
        <${ItemMenu} s=${s} st=${st} act=${act} />
      </div>
      ${count > 1 && html`
        <button type="button" class="link-button members-toggle" aria-expanded=${members && !members.error ? 'true' : 'false'}
                onClick=${toggleMembers}>
          ${members && !members.loading && !members.error ? t('item.hideMembers') : t('item.members', { n: count })}
        </button>`}
      ${members && html`<${Members} members=${members} s=${s} />`}
      ${error && html`<p class="item-error" role="alert">${error}</p>`}
    </li>
  `;
}

function Members({ members, s }) {
  if (members.loading) return html`<p class="members muted" role="status">${t('members.loading')}</p>`;
  if (members.error) return html`<p class="item-error" role="alert">${members.error}</p>`;
  const shown = members.events;
  const more = Math.max(0, (members.count || 0) - shown.reduce((n, e) => n + (Number(e.count) || 1), 0));
  return html`
    <ol class="members" aria-label=${t('members.label')}>
      ${shown.map((e, i) => {
        const p = presentSignal({ ...s, title: e.title, body: e.body, data: e.data || s.data, count: 1 }, getLang());
        return html`
          <li key=${i} class="member">
            <time class="time" datetime=${e.occurred_at} title=${absoluteTime(e.occurred_at)}>${relativeTime(e.occurred_at)}</time>
            <span class="member-text">
              ${p.title && html`<span class="title">${p.title}</span>`}
              ${p.body && html`<span class="body">${p.body}</span>`}
            </span>
          </li>`;
      })}
      ${more > 0 && html`<li class="member muted">${t('members.more', { n: more })}</li>`}
    </ol>
  `;
}

/** The "⋯" menu of an item. Arrow keys move, Escape closes and returns focus to the button. */
function ItemMenu({ s, st, act }) {
  const [open, setOpen] = useState(false);
  const [place, setPlace] = useState(null); // {up, maxHeight} once measured
  const root = useRef(null);
  const button = useRef(null);
  const menu = useRef(null);
  const lang = getLang();
  const tz = st.me?.timezone;
  const presets = open ? snoozePresets(Date.now(), tz) : [];

  // Measured before it is painted: near the bottom of the viewport the menu opens upward.
  useLayoutEffect(() => {
    if (!open) {
      setPlace(null);
      return;
    }
    if (!menu.current || !root.current) return;
    const anchor = root.current.getBoundingClientRect();
    const header = document.querySelector('.topbar');
    const sticky = header && getComputedStyle(header).position === 'sticky';
    setPlace(menuPlacement({
      anchorTop: anchor.top,
      anchorBottom: anchor.bottom,
      menuHeight: menu.current.scrollHeight,
      viewportHeight: window.innerHeight || document.documentElement.clientHeight,
      topLimit: sticky ? header.getBoundingClientRect().bottom : 0,
    }));
  }, [open]);

  useEffect(() => {
    if (!open) return undefined;
    menu.current?.querySelector('[role=menuitem]')?.focus();
    const onDown = (e) => {
      if (!menu.current?.contains(e.target) && !button.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);

  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const run = (fn) => () => {
    close(false);
    button.current?.focus();
    fn();
  };
  const onKeyDown = (e) => {
    const items = [...(menu.current?.querySelectorAll('[role=menuitem]') || [])];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = items.length;
      items[(i + (e.key === 'ArrowDown' ? 1 : -1) + n) % n]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
    } else if (e.key === 'Tab') {
      close(false);
    }
  };
  const item = (key, label, fn, extra = '') => html`
    <button type="button" role="menuitem" tabindex="-1" class="menu-item" data-action=${key} onClick=${run(fn)}>
      <span>${label}</span>${extra && html`<span class="menu-extra">${extra}</span>`}
    </button>`;
  const canReply = !!s.contact;
  const only = contactFilter(s);
  const filteredToIt = only && st.query.contact === only.contact;
  const menuCls = place?.up ? 'popover menu is-up' : 'popover menu';
  const menuStyle = place?.maxHeight ? `max-height: ${place.maxHeight}px` : undefined;
  return html`
    <div class="item-menu" ref=${root}>
      <button type="button" class="icon-button more-button" aria-haspopup="menu" aria-expanded=${open ? 'true' : 'false'}
              aria-label=${`${t('item.actions')}: ${presentSignal(s, lang).name}`} ref=${button}
              onClick=${() => setOpen(!open)}>
        <${Svg} svg=${uiIcon('more', 20)} />
      </button>
      ${open && html`
        <div class=${menuCls} role="menu" aria-label=${t('item.actions')} ref=${menu} onKeyDown=${onKeyDown}
             data-placement=${place ? (place.up ? 'up' : 'down') : undefined} style=${menuStyle}>
          ${s.read
            ? item('unread', t('item.markUnread'), () => act.signalOp('unread', [s.id]))
            : item('read', t('item.markRead'), () => act.signalOp('read', [s.id]))}
          ${s.archived
            ? item('unarchive', t('item.unarchive'), () => act.signalOp('unarchive', [s.id]))
            : item('archive', t('item.archive'), () => act.signalOp('archive', [s.id]))}
          <div role="group" aria-label=${t('item.snooze')} class="menu-group">
            <div class="menu-label" aria-hidden="true">${t('item.snooze')}</div>
            ${presets.map((p) => item(`snooze-${p.key}`, t(`snooze.${p.key}`), () => act.signalOp('snooze', [s.id], { until: p.until }),
              formatInZone(p.ms, tz, localeFor(lang))))}
          </div>
          ${canReply && html`<div class="menu-sep" role="separator"></div>`}
          ${canReply && item('reply', t('item.reply'), () => act.openReply(s.id))}
          ${CALL_BACK_ENABLED && canReply && item('call', t('item.callBack'), () => act.callBack(s.id))}
          ${only && !filteredToIt && item('only-contact', t('item.onlyContact'), () => {
            act.setQuery(only);
            // the list reloads under the keyboard: hand it to the chip that undoes the filter
            setTimeout(() => document.getElementById('contact-chip-remove')?.focus(), 0);
          })}
        </div>`}
    </div>
  `;
}
