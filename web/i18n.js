// UI strings (ja / en) and pure formatting helpers. No DOM access: the
// current language is module state, set by app.js via setLang(). The admin console's strings
// (web/admin/strings.js) are merged in: t() finds both.

import { ADMIN_STRINGS } from './admin/strings.js';

export const LANGS = ['ja', 'en'];

// Both tables are exported for the tests (every key in every language); treat as read-only.
export const TYPE_LABELS = {
  ja: {
    'email.received': 'メール受信',
    'email.replied': 'メール返信',
    'email.opened': 'メール開封',
    'email.clicked': 'リンククリック',
    'email.bounced': 'メール不達',
    'sms.received': 'SMS受信',
    'sms.delivered': 'SMS配信済み',
    'sms.failed': 'SMS送信失敗',
    'call.missed': '不在着信',
    'survey.answered': 'アンケート回答',
    'campaign.opened': 'キャンペーン開封',
    'campaign.clicked': 'キャンペーンクリック',
    'campaign.bounced': 'キャンペーン不達',
    'chat.unattended': '未対応チャット',
    'desk.ticket': '新規チケット',
    'desk.escalated': 'チケットエスカレーション',
    'desk.rating': '顧客評価',
    'event.ticket_purchased': 'チケット購入',
    'event.checked_in': 'チェックイン',
    'event.ticket_cancelled': 'チケットキャンセル',
    'webinar.registered': 'ウェビナー登録',
    'call.voicemail': '留守番電話',
    'credits.low': 'SMSクレジット残高不足',
    'web.visited': 'Webサイト訪問',
    'mailbox.auth_failed': 'メールボックスのログイン失敗',
  },
  en: {
    'email.received': 'Email received',
    'email.replied': 'Email reply',
    'email.opened': 'Email opened',
    'email.clicked': 'Link clicked',
    'email.bounced': 'Email bounced',
    'sms.received': 'SMS received',
    'sms.delivered': 'SMS delivered',
    'sms.failed': 'SMS failed',
    'call.missed': 'Missed call',
    'survey.answered': 'Survey answered',
    'campaign.opened': 'Campaign opened',
    'campaign.clicked': 'Campaign clicked',
    'campaign.bounced': 'Campaign bounced',
    'chat.unattended': 'Unattended chat',
    'desk.ticket': 'New ticket',
    'desk.escalated': 'Ticket escalated',
    'desk.rating': 'Customer rating',
    'event.ticket_purchased': 'Ticket purchased',
    'event.checked_in': 'Checked in',
    'event.ticket_cancelled': 'Ticket cancelled',
    'webinar.registered': 'Webinar registration',
    'call.voicemail': 'Voicemail',
    'credits.low': 'SMS credits low',
    'web.visited': 'Website visit',
    'mailbox.auth_failed': 'Mailbox login failed',
  },
};

export const DICT = {
  ja: {
    'signin.title': 'サインイン',
    'signin.lead': 'リアルタイム通知を受け取るには、ユーザートークンを入力してください。',
    'signin.label': 'ユーザートークン',
    'signin.placeholder': 'sgu.acme.…',
    'signin.submit': 'サインイン',
    'signin.hint': '管理者から受け取ったトークン、または「signalgate demo」が表示したURLを使ってください。',
    'signin.empty': 'トークンを入力してください。',
    'signin.rejected': 'トークンが受け付けられませんでした。有効なトークンでもう一度サインインしてください。',
    'signout': 'サインアウト',
    'status.connecting': '接続中…',
    'status.live': 'ライブ',
    'status.reconnecting': '再接続中…',
    'status.signed-out': '未サインイン',
    'status.title': '接続状態',
    'bell.label': '未読 {n} 件',
    'bell.unreadOnly': '未読のみ表示',
    'filter.label': '種類',
    'filter.all': 'すべての種類',
    'markAllRead': 'すべて既読にする',
    'settings.open': '通知設定',
    'settings.title': '通知設定',
    'settings.lead': '受け取る通知の種類を選んでください。変更はすぐに保存されます。',
    'settings.loading': '読み込み中…',
    'settings.close': '閉じる',
    'list.label': '通知一覧',
    'list.loading': '読み込み中…',
    'list.empty': 'まだ通知はありません。新しい通知はここにリアルタイムで表示されます。',
    'list.emptyFiltered': 'この条件に一致する通知はありません。',
    'contact.unknown': '不明な連絡先',
    'kind.lead': 'リード',
    'kind.contact': 'コンタクト',
    'kind.customer': '顧客',
    'item.unread': '未読',
    'item.count': '{n} 件',
    'item.updated': '更新',
    'bounce.hard': '恒久エラー',
    'bounce.soft': '一時エラー',
    'time.now': 'たった今',
    'time.minutes': '{n}分前',
    'time.hours': '{n}時間前',
    'time.day': '{n}日前',
    'time.days': '{n}日前',
    'announce.one': '新しい通知: {type}、{name}、{title}',
    'announce.many': '新しい通知が {n} 件あります',
    'gap.reloaded': '履歴の一部が古くなっていたため、一覧を再読み込みしました。',
    'error.network': 'サーバーに接続できません。自動的に再試行します。',
    'error.generic': 'エラーが発生しました。しばらくしてからもう一度お試しください。',
    'lang.label': '表示言語を切り替え（日本語 / English）',
    'user.org': '組織: {org}',
    'role.admin': '管理者',
    'role.member': 'メンバー',
    'nav.feed': '通知',
    'nav.admin': '管理',
    'nav.adminViews': '管理メニュー',
    'views.label': '表示',
    'view.inbox': '受信箱',
    'view.archived': 'アーカイブ',
    'view.snoozed': 'スヌーズ中',
    'filter.open': '絞り込み',
    'filter.unreadOnly': '未読のみ',
    'filter.clear': '条件をクリア',
    'filter.title': '種類で絞り込む',
    'filter.active': '{n} 件の条件',
    'filter.contactChip': '連絡先: {name}',
    'filter.removeContact': '連絡先「{name}」の絞り込みを解除',
    'list.older': 'さらに古い通知を読み込む',
    'list.loadingOlder': '読み込み中…',
    'list.end': 'これより古い通知はありません。',
    'list.emptyArchived': 'アーカイブした通知はありません。',
    'list.emptySnoozed': 'スヌーズ中の通知はありません。',
    'item.actions': '操作',
    'item.markRead': '既読にする',
    'item.markUnread': '未読にする',
    'item.archive': 'アーカイブ',
    'item.unarchive': '受信箱に戻す',
    'item.snooze': 'スヌーズ',
    'item.snoozedUntil': '{time} まで',
    'item.unsnooze': 'スヌーズを解除',
    'item.reply': 'SMSで返信',
    'item.callBack': '折り返し電話',
    'item.onlyContact': 'この連絡先のみ表示',
    'item.openRecord': 'CRMで開く',
    'item.acted': 'SMSで返信済み',
    'item.members': '{n} 件の内訳を表示',
    'item.hideMembers': '内訳を閉じる',
    'members.label': 'グループ内の通知',
    'members.loading': '読み込み中…',
    'members.more': 'ほか {n} 件',
    'snooze.later': '今日のあとで',
    'snooze.inHour': '1時間後',
    'snooze.tomorrow': '明日の朝',
    'snooze.nextWeek': '来週',
    'reply.title': 'SMSで返信',
    'reply.to': '宛先: {name}',
    'reply.template': 'テンプレート',
    'reply.noTemplates': '承認済みのSMSテンプレートがありません。',
    'reply.loading': 'テンプレートを読み込み中…',
    'reply.preview': 'プレビュー',
    'reply.send': '送信',
    'reply.sending': '送信中…',
    'reply.cancel': 'キャンセル',
    'reply.sent': 'SMSを送信しました。',
    'action.no_phone': 'この連絡先には電話番号がありません。',
    'action.no_contact': 'この通知には連絡先がありません。',
    'action.template_not_approved': 'このテンプレートは承認されていません。',
    'action.insufficient_credits': 'SMSクレジットが不足しています。管理者に連絡してください。',
    'action.invalid_data': '差し込み項目を確認してください。',
    'notify.enable': 'デスクトップ通知を有効にする',
    'notify.on': 'デスクトップ通知: オン',
    'notify.denied': 'デスクトップ通知はブラウザでブロックされています。',
    'notify.unsupported': 'このブラウザはデスクトップ通知に対応していません。',
    'settings.reminders': 'SMSリマインダーを受け取る',
    'settings.types': '通知の種類',
    'settings.desktop': 'デスクトップ通知',
    'settings.account': 'アカウント',
    'twilio.no-answer': '応答なし',
    'twilio.busy': '話し中',
    'twilio.canceled': 'キャンセル',
    'twilio.failed': '失敗',
    'twilio.completed': '完了',
    'twilio.queued': '送信待ち',
    'twilio.sending': '送信中',
    'twilio.sent': '送信済み',
    'twilio.delivered': '配信済み',
    'twilio.undelivered': '未配信',
    'twilio.read': '既読',
    'twilio.received': '受信',
    'twilio.error': '(エラー {code})',
    'admin.notFound': 'この管理画面はありません。',
    'call.ringing': 'お手元の電話が鳴ります。応答すると相手につながります。',
    'action.outbound_not_allowed': '発信が許可されていません。管理者に電話の設定を依頼してください。',
    'action.no_caller_id': '発信者番号が設定されていません。管理者に連絡してください。',
    'action.no_user_phone': 'あなたの電話番号が登録されていません。管理者に連絡してください。',
    'action.destination_not_allowed': 'この番号には発信できません。',
    'action.invalid_phone': '電話番号の形式が正しくありません。',
  },
  en: {
    'signin.title': 'Sign in',
    'signin.lead': 'Enter your user token to receive real-time notifications.',
    'signin.label': 'User token',
    'signin.placeholder': 'sgu.acme.…',
    'signin.submit': 'Sign in',
    'signin.hint': 'Use the token from your administrator, or open the URL printed by "signalgate demo".',
    'signin.empty': 'Please enter a token.',
    'signin.rejected': 'Your token was not accepted. Please sign in again with a valid token.',
    'signout': 'Sign out',
    'status.connecting': 'Connecting…',
    'status.live': 'Live',
    'status.reconnecting': 'Reconnecting…',
    'status.signed-out': 'Signed out',
    'status.title': 'Connection status',
    'bell.label': '{n} unread',
    'bell.unreadOnly': 'Show unread only',
    'filter.label': 'Type',
    'filter.all': 'All types',
    'markAllRead': 'Mark all read',
    'settings.open': 'Notification settings',
    'settings.title': 'Notification settings',
    'settings.lead': 'Choose which kinds of notifications you receive. Changes are saved immediately.',
    'settings.loading': 'Loading…',
    'settings.close': 'Close',
    'list.label': 'Notifications',
    'list.loading': 'Loading…',
    'list.empty': 'No notifications yet. New ones will appear here in real time.',
    'list.emptyFiltered': 'No notifications match this filter.',
    'contact.unknown': 'Unknown contact',
    'kind.lead': 'Lead',
    'kind.contact': 'Contact',
    'kind.customer': 'Customer',
    'item.unread': 'Unread',
    'item.count': '{n} events',
    'item.updated': 'updated',
    'bounce.hard': 'Hard bounce',
    'bounce.soft': 'Soft bounce',
    'time.now': 'just now',
    'time.minutes': '{n} min ago',
    'time.hours': '{n} hr ago',
    'time.day': '{n} day ago',
    'time.days': '{n} days ago',
    'announce.one': 'New notification: {type}, {name}, {title}',
    'announce.many': '{n} new notifications',
    'gap.reloaded': 'Part of the history had expired, so the list was reloaded.',
    'error.network': 'Cannot reach the server. Retrying automatically.',
    'error.generic': 'Something went wrong. Please try again in a moment.',
    'lang.label': 'Switch language (日本語 / English)',
    'user.org': 'Organization: {org}',
    'role.admin': 'Admin',
    'role.member': 'Member',
    'nav.feed': 'Notifications',
    'nav.admin': 'Admin',
    'nav.adminViews': 'Admin menu',
    'views.label': 'View',
    'view.inbox': 'Inbox',
    'view.archived': 'Archived',
    'view.snoozed': 'Snoozed',
    'filter.open': 'Filter',
    'filter.unreadOnly': 'Unread only',
    'filter.clear': 'Clear filters',
    'filter.title': 'Filter by type',
    'filter.active': '{n} filters',
    'filter.contactChip': 'contact: {name}',
    'filter.removeContact': 'Remove the contact filter: {name}',
    'list.older': 'Load older notifications',
    'list.loadingOlder': 'Loading…',
    'list.end': 'No older notifications.',
    'list.emptyArchived': 'No archived notifications.',
    'list.emptySnoozed': 'No snoozed notifications.',
    'item.actions': 'Actions',
    'item.markRead': 'Mark read',
    'item.markUnread': 'Mark unread',
    'item.archive': 'Archive',
    'item.unarchive': 'Move to inbox',
    'item.snooze': 'Snooze',
    'item.snoozedUntil': 'until {time}',
    'item.unsnooze': 'Unsnooze',
    'item.reply': 'Reply by SMS',
    'item.callBack': 'Call back',
    'item.onlyContact': 'Show only this contact',
    'item.openRecord': 'Open in CRM',
    'item.acted': 'Replied by SMS',
    'item.members': 'Show {n} events',
    'item.hideMembers': 'Hide events',
    'members.label': 'Events in this group',
    'members.loading': 'Loading…',
    'members.more': 'and {n} more',
    'snooze.later': 'Later today',
    'snooze.inHour': 'In 1 hour',
    'snooze.tomorrow': 'Tomorrow morning',
    'snooze.nextWeek': 'Next week',
    'reply.title': 'Reply by SMS',
    'reply.to': 'To: {name}',
    'reply.template': 'Template',
    'reply.noTemplates': 'There is no approved SMS template.',
    'reply.loading': 'Loading templates…',
    'reply.preview': 'Preview',
    'reply.send': 'Send',
    'reply.sending': 'Sending…',
    'reply.cancel': 'Cancel',
    'reply.sent': 'SMS sent.',
    'action.no_phone': 'This contact has no phone number.',
    'action.no_contact': 'This notification has no contact.',
    'action.template_not_approved': 'This template is not approved.',
    'action.insufficient_credits': 'Not enough SMS credits. Please contact your administrator.',
    'action.invalid_data': 'Please check the merge fields.',
    'notify.enable': 'Enable desktop notifications',
    'notify.on': 'Desktop notifications: on',
    'notify.denied': 'Desktop notifications are blocked in the browser.',
    'notify.unsupported': 'This browser does not support desktop notifications.',
    'settings.reminders': 'Receive SMS reminders',
    'settings.types': 'Notification types',
    'settings.desktop': 'Desktop notifications',
    'settings.account': 'Account',
    'twilio.no-answer': 'No answer',
    'twilio.busy': 'Busy',
    'twilio.canceled': 'Canceled',
    'twilio.failed': 'Failed',
    'twilio.completed': 'Completed',
    'twilio.queued': 'Queued',
    'twilio.sending': 'Sending',
    'twilio.sent': 'Sent',
    'twilio.delivered': 'Delivered',
    'twilio.undelivered': 'Undelivered',
    'twilio.read': 'Read',
    'twilio.received': 'Received',
    'twilio.error': '(error {code})',
    'admin.notFound': 'There is no such admin view.',
    'call.ringing': 'Your phone will ring; answer it to be connected.',
    'action.outbound_not_allowed': 'You are not allowed to place calls. Ask your administrator to set up your phone.',
    'action.no_caller_id': 'No caller ID is set. Please contact your administrator.',
    'action.no_user_phone': 'Your phone number is not registered. Please contact your administrator.',
    'action.destination_not_allowed': 'This number cannot be called.',
    'action.invalid_phone': 'The phone number is not valid.',
  },
};

let current = 'en';
let enLocale = 'en';

/** Pick a language: stored choice wins, then the first browser language (ja* → ja), else en. */
export function detectLang(stored, navigatorLanguages) {
  if (LANGS.includes(stored)) return stored;
  const list = Array.isArray(navigatorLanguages) ? navigatorLanguages : [navigatorLanguages];
  const first = String(list.find(Boolean) || '').toLowerCase();
  return first.startsWith('ja') ? 'ja' : 'en';
}

/** Set the current language. `browserLocale` (e.g. "en-GB") refines English date formats. */
export function setLang(lang, browserLocale) {
  current = LANGS.includes(lang) ? lang : 'en';
  if (typeof browserLocale === 'string' && /^en\b/i.test(browserLocale)) enLocale = browserLocale;
  return current;
}

export function getLang() {
  return current;
}

/** BCP 47 locale used for Intl formatting in a language. */
export function localeFor(lang = current) {
  return lang === 'ja' ? 'ja-JP' : enLocale;
}

/** Translate in an explicit language (pure). Unknown keys fall back to English, then the key. */
export function translate(lang, key, params) {
  const s = DICT[lang]?.[key] ?? ADMIN_STRINGS[lang]?.[key] ?? DICT.en[key] ?? ADMIN_STRINGS.en?.[key] ?? key;
  return params ? s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m)) : s;
}

export function t(key, params) {
  return translate(current, key, params);
}

/** Label for a signal type; unknown types show the raw type string. */
export function typeLabel(type, lang = current) {
  return TYPE_LABELS[lang]?.[type] ?? TYPE_LABELS.en[type] ?? String(type ?? '');
}

function toMs(when) {
  if (when instanceof Date) return when.getTime();
  if (typeof when === 'number') return when;
  return when ? Date.parse(when) : NaN;
}

/**
 * Relative time: "たった今" / "3分前" / "2時間前" / "3日前", or a short date
 * after a week ("11月18日" / "Nov 18"; with the year if not the current one).
 * Pure: pass `now` (ms) and `lang` for deterministic output.
 */
export function relativeTime(when, now = Date.now(), lang = current) {
  const ms = toMs(when);
  if (!Number.isFinite(ms)) return '';
  const sec = Math.max(0, Math.floor((now - ms) / 1000)); // clock skew: future → "just now"
  if (sec < 60) return translate(lang, 'time.now');
  const min = Math.floor(sec / 60);
  if (min < 60) return translate(lang, 'time.minutes', { n: min });
  const hr = Math.floor(min / 60);
  if (hr < 24) return translate(lang, 'time.hours', { n: hr });
  const day = Math.floor(hr / 24);
  if (day < 7) return translate(lang, day === 1 ? 'time.day' : 'time.days', { n: day });
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  const opts = sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(localeFor(lang), opts).format(d);
}

/** Absolute local date-time for tooltips, e.g. "2026/11/25 23:00". */
export function absoluteTime(when, lang = current) {
  const ms = toMs(when);
  if (!Number.isFinite(ms)) return '';
  return new Intl.DateTimeFormat(localeFor(lang), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}
