// Signal type catalogue: order + icon. Colours live in style.css
// ([data-type="..."] { --c: ... }) so themes can adjust them. No DOM access:
// icons are constant SVG strings drawn for this project.

const P = {
  mail: '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>',
  reply: '<path d="M9 14L4 9l5-5"/><path d="M4 9h10a6 6 0 0 1 6 6v4"/>',
  mailOpen: '<path d="M3 10l9-6 9 6v9a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z"/><path d="M3 10l9 6 9-6"/>',
  link: '<path d="M10 14a4 4 0 0 0 5.66 0l3-3a4 4 0 0 0-5.66-5.66l-1 1"/><path d="M14 10a4 4 0 0 0-5.66 0l-3 3a4 4 0 0 0 5.66 5.66l1-1"/>',
  alert: '<path d="M12 3l10 18H2z"/><path d="M12 10v5"/><path d="M12 18h.01"/>',
  sms: '<path d="M4 4h16v12H8l-4 4z"/><path d="M8 9h8M8 12h5"/>',
  smsOk: '<path d="M4 4h16v12H8l-4 4z"/><path d="M9 10l2 2 4-4"/>',
  smsFail: '<path d="M4 4h16v12H8l-4 4z"/><path d="M10 8l4 4M14 8l-4 4"/>',
  phoneMissed: '<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"/><path d="M16 3l5 5M21 3l-5 5"/>',
  survey: '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V3h6v1"/><path d="M9 11l2 2 4-4"/><path d="M9 17h6"/>',
  megaphone: '<path d="M3 10v4h4l8 5V5L7 10z"/><path d="M18 9a4 4 0 0 1 0 6"/>',
  pointer: '<path d="M5 3l14 7-6 2-2 6z"/><path d="M13 12l5 5"/>',
  octagon: '<path d="M8 3h8l5 5v8l-5 5H8l-5-5V8z"/><path d="M12 8v5M12 16h.01"/>',
  chat: '<path d="M21 12a8 8 0 0 1-11.5 7.2L4 21l1.8-5.5A8 8 0 1 1 21 12z"/><path d="M8.5 12h.01M12 12h.01M15.5 12h.01"/>',
  inbox: '<path d="M3 13l3-8h12l3 8v6H3z"/><path d="M3 13h5l1 2h6l1-2h5"/>',
  escalate: '<circle cx="12" cy="12" r="9"/><path d="M12 16V8M8 12l4-4 4 4"/>',
  star: '<path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3l-5.5 2.9 1-6.2L3 9.6l6.2-.9z"/>',
  ticket: '<path d="M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z"/><path d="M14 8v1.5M14 11.25v1.5M14 14.5V16"/>',
  checkCircle: '<circle cx="12" cy="12" r="9"/><path d="M8 12l3 3 5-6"/>',
  ticketX: '<path d="M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z"/><path d="M10 10l4 4M14 10l-4 4"/>',
  video: '<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>',
  bell: '<path d="M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 20a2 2 0 0 0 4 0"/>',
  gear: '<circle cx="12" cy="12" r="3"/><circle cx="12" cy="12" r="7"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1"/>',
  signal: '<path d="M2 12h4l3-7 4 14 3-7h6"/>',
  voicemail: '<circle cx="6.5" cy="12" r="3.5"/><circle cx="17.5" cy="12" r="3.5"/><path d="M6.5 15.5h11"/>',
  coins: '<ellipse cx="12" cy="6" rx="7" ry="3"/><path d="M5 6v6c0 1.7 3.1 3 7 3s7-1.3 7-3V6"/><path d="M5 12v6c0 1.7 3.1 3 7 3s7-1.3 7-3v-6"/>',
  globe: '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18"/>',
  mailLock: '<rect x="3" y="5" width="13" height="11" rx="2"/><path d="M3 7l6.5 4.5L16 7"/><rect x="15" y="15" width="7" height="6" rx="1"/><path d="M16.5 15v-1.5a2 2 0 0 1 4 0V15"/>',
  more: '<circle cx="5" cy="12" r="1.5"/><circle cx="12" cy="12" r="1.5"/><circle cx="19" cy="12" r="1.5"/>',
  archive: '<rect x="3" y="4" width="18" height="4" rx="1"/><path d="M5 8v11h14V8M10 12h4"/>',
  clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
  filter: '<path d="M3 5h18l-7 8v6l-4 1v-7z"/>',
  external: '<path d="M14 4h6v6M20 4l-9 9"/><path d="M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>',
  check: '<path d="M5 12l5 5 9-10"/>',
};

/** Known signal types in display order (grouped by channel). */
export const SIGNAL_TYPES = [
  ['email.received', 'mail'],
  ['email.replied', 'reply'],
  ['email.opened', 'mailOpen'],
  ['email.clicked', 'link'],
  ['email.bounced', 'alert'],
  ['sms.received', 'sms'],
  ['sms.delivered', 'smsOk'],
  ['sms.failed', 'smsFail'],
  ['call.missed', 'phoneMissed'],
  ['call.voicemail', 'voicemail'],
  ['survey.answered', 'survey'],
  ['campaign.opened', 'megaphone'],
  ['campaign.clicked', 'pointer'],
  ['campaign.bounced', 'octagon'],
  ['chat.unattended', 'chat'],
  ['desk.ticket', 'inbox'],
  ['desk.escalated', 'escalate'],
  ['desk.rating', 'star'],
  ['event.ticket_purchased', 'ticket'],
  ['event.checked_in', 'checkCircle'],
  ['event.ticket_cancelled', 'ticketX'],
  ['webinar.registered', 'video'],
  ['credits.low', 'coins'],
  ['web.visited', 'globe'],
  ['mailbox.auth_failed', 'mailLock'],
].map(([type, icon]) => ({ type, icon }));

const BY_TYPE = new Map(SIGNAL_TYPES.map((d) => [d.type, d]));

export const TYPE_NAMES = SIGNAL_TYPES.map((d) => d.type);

export function isKnownType(type) {
  return BY_TYPE.has(type);
}

/** Known types first (catalogue order), then any extra types (sorted). */
export function orderTypes(types) {
  const extra = [...new Set(types)].filter((x) => !BY_TYPE.has(x)).sort();
  return [...TYPE_NAMES, ...extra];
}

function svg(inner, size) {
  return `<svg viewBox="0 0 24 24" width="${size}" height="${size}" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${inner}</svg>`;
}

/** Inline SVG markup for a signal type (generic bell for unknown types). */
export function typeIcon(type, size = 20) {
  return svg(P[BY_TYPE.get(type)?.icon] ?? P.bell, size);
}

/** Inline SVG markup for a UI icon by name ('bell', 'gear', 'signal', 'more', 'archive', ...). */
export function uiIcon(name, size = 20) {
  return svg(P[name] ?? P.bell, size);
}
