// How a signal reads in the user's language: who it is about, a localised title (Twilio
// statuses, numbers as the gateway formatted them), and a body that never repeats the title.
// Pure: no DOM; the language is passed in.

import { translate, typeLabel } from './i18n.js';

/** Twilio call / message statuses with their own words; others show as sent. */
export const TWILIO_STATUSES = [
  'no-answer', 'busy', 'canceled', 'failed', 'completed',
  'queued', 'sending', 'sent', 'delivered', 'undelivered', 'read', 'received',
];

export function statusLabel(status, lang) {
  if (!status) return '';
  return TWILIO_STATUSES.includes(status) ? translate(lang, `twilio.${status}`) : String(status);
}

/** A phone number as the gateway formatted it for the org's country, else as stored. */
function phone(data, field) {
  return String(data?.[`${field}_display`] || data?.[field] || '');
}

function clean(s) {
  return String(s ?? '').trim();
}

/**
 * → {name, company, kind, known, type, title, body}
 *   name: the contact's name (or, for an unknown caller / recipient, their number);
 *   title / body: what happened, body '' when it would repeat the title.
 */
export function presentSignal(s, lang) {
  const data = s?.data && typeof s.data === 'object' ? s.data : {};
  const contact = s?.contact || null;
  const out = {
    name: clean(contact?.name),
    company: clean(contact?.company),
    kind: contact?.kind || '',
    known: !!contact?.name,
    type: typeLabel(s?.type, lang),
    title: clean(s?.title),
    body: clean(s?.body),
  };
  switch (s?.type) {
    case 'call.missed': {
      const from = phone(data, 'from');
      out.title = [statusLabel(data.status, lang), out.known ? from : ''].filter(Boolean).join(' · ');
      if (!out.known && from) out.name = from;
      out.body = '';
      break;
    }
    case 'sms.received': {
      const text = clean(data.text) || out.body || out.title;
      const from = phone(data, 'from');
      if (!out.known && from) out.name = from;
      out.title = text;
      out.body = '';
      break;
    }
    case 'sms.delivered':
    case 'sms.failed': {
      const to = phone(data, 'to');
      if (!out.known && to) out.name = to;
      const err = data.error_code ? translate(lang, 'twilio.error', { code: data.error_code }) : '';
      out.title = [statusLabel(data.status, lang), err].filter(Boolean).join(' ');
      if (out.known && to) out.title = `${out.title} · ${to}`;
      out.body = '';
      break;
    }
    default:
      break;
  }
  if (!out.name) out.name = translate(lang, 'contact.unknown');
  // Never the same text twice (an SMS-like title that is the body's start, or equal).
  if (out.body && out.title) {
    const t = out.title.replace(/…$/, '');
    if (out.body === out.title || (t.length >= 8 && out.body.startsWith(t))) {
      out.title = out.body;
      out.body = '';
    }
  }
  return out;
}

/** The text of a desktop notification for a signal. */
export function notificationText(s, lang) {
  const p = presentSignal(s, lang);
  return {
    title: `${p.type}: ${p.name}${p.company ? ` (${p.company})` : ''}`,
    body: [p.title, p.body].filter(Boolean).join('\n'),
  };
}
