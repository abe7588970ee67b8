// Desktop notifications (the browser's Notification API). Permission is asked only from a
// click (askPermission); a notification is shown only while the page is hidden.

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

/** Pure rule: a live (not replayed) new signal, the user switched it on, permission granted, page hidden. */
export function shouldNotify({ enabled, permission: perm, hidden, replay, change }) {
  return !!enabled && perm === 'granted' && !!hidden && !replay && change === 'insert';
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
