// Small fetch wrapper for the signalgate REST API. No DOM access.
// Errors are thrown as ApiError; server errors look like
// {"error": "<code>", "detail": "<sentence>"} and `detail` is meant for users.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 = network failure / timeout)
   * @param {string} code   server `error` code, or 'network' / 'timeout' / 'http_<status>'
   * @param {string} detail server `detail` sentence ('' if none)
   */
  constructor(status, code, detail) {
    super(detail || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail || '';
  }

  get unauthorized() {
    return this.status === 401;
  }
}

export function createApi({ base = '', getToken, fetchImpl, timeoutMs = 15000 } = {}) {
  const doFetch = fetchImpl || ((...args) => globalThis.fetch(...args));

  async function request(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${getToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = ctrl ? setTimeout(() => ctrl.abort(), timeoutMs) : null;
    let res;
    try {
      res = await doFetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl?.signal,
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new ApiError(0, err?.name === 'AbortError' ? 'timeout' : 'network', '');
    } finally {
      if (timer) clearTimeout(timer);
    }
    let data = null;
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      throw new ApiError(res.status, data?.error || `http_${res.status}`, typeof data?.detail === 'string' ? data.detail : '');
    }
    return data ?? {};
  }

  return {
    /** Any API call: (method, path, body?) → the JSON answer; throws ApiError. */
    request,

    /** → {org, user, name, role} */
    me: () => request('GET', '/api/v1/me'),

    /** → {signals: [...ascending by id], unread, cursor}; `params` from store.feedParams */
    listSignals(params = 'limit=50') {
      const q = typeof params === 'string' ? params : new URLSearchParams({ limit: '50', ...params }).toString();
      return request('GET', `/api/v1/me/signals?${q}`);
    },

    /** selector: {ids: [...]} or {up_to: id} → {unread} */
    markRead: (selector) => request('POST', '/api/v1/me/signals/read', selector),

    /** op: read | unread | archive | unarchive | snooze; body {ids} | {up_to} (+ until) → {unread, unknown} */
    signalOp: (op, body) => request('POST', `/api/v1/me/signals/${op}`, body),

    /** → {unread, by_type: {type: n}} (unread in the inbox) */
    counts: () => request('GET', '/api/v1/me/signals/counts'),

    /** A group's members → {events: [{occurred_at, title, body, count}] newest first, count} */
    events: (id, limit = 20) => request('GET', `/api/v1/me/signals/${encodeURIComponent(id)}/events?limit=${limit}`),

    /** Approved SMS templates of the org. */
    smsTemplates: () => request('GET', '/api/v1/me/templates?channel=sms'),

    /** {signal, action: 'sms', template, data, idempotency_key} → {notification: {id, status}, unread} */
    act: (body) => request('POST', '/api/v1/me/actions', body),

    /** Click-to-call: Twilio rings the user's phone, then dials the contact → 202 {sid, status} */
    callContact: (contactId) => request('POST', '/api/v1/me/calls', { to: { contact: contactId } }),

    /** → {types: {type: bool}} */
    getSettings: () => request('GET', '/api/v1/me/settings'),

    /** partial {type: bool} → {types: {...all}} */
    putSettings: (types) => request('PUT', '/api/v1/me/settings', { types }),

    /** any partial settings body, e.g. {reminders: false} → the settings */
    putSettingsBody: (body) => request('PUT', '/api/v1/me/settings', body),
  };
}
