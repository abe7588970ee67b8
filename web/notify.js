// Desktop notifications (the browser's Notification API). Permission is asked only from a
// click (askPermission); a notification is shown only while the page is hidden, whatever the
// current view or filter; one per signal (its tag: a group's repeats replace it).

import { notificationText } from './present.js';

export function notificationSupport() {
  return typeof globalThis.Notification === 'function';
}

/** 'granted' | 'denied' | 'default' | 'unsupported' */
export function permission() {
  return notificationSupport() ? globalThis.Notification.permission : 'unsupported';
}

/** Must be called from a user gesture (a click on the explicit button). */
export async function askPermission() {
  if (!notificationSupport()) return 'unsupported';
  try {
    return await globalThis.Notification.requestPermission();
  } catch {
    return permission();
  }
}

/**
 * Pure rule: the user switched it on, permission granted, page hidden, and a live (not replayed)
 * signal frame that puts the signal in the inbox unread — new, a grouped repeat or a snooze's end:
 * something the rep has not seen. It depends on the signal only, never on what the page shows: a
 * rep filtered to one contact (or one type, unread, the archive…) still hears about the others.
 */
export function shouldNotify({ enabled, permission: perm, hidden, replay, signal }) {
  return !!enabled && perm === 'granted' && !!hidden && !replay && arrived(signal);
}

function arrived(signal) {
  return !!signal && typeof signal === 'object' && signal.read !== true && !signal.archived && !signal.snoozed_until;
}

export function showNotification(signal, lang, onClick) {
  const { title, body } = notificationText(signal, lang);
  try {
    const n = new globalThis.Notification(title, { body, tag: `signal-${signal.id}`, lang });
    n.onclick = () => {
      globalThis.focus?.();
      onClick?.();
      n.close();
    };
    return n;
  } catch {
    return null;
  }
}
