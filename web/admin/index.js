// The admin console's views, shown only to users whose role is "admin" (GET /api/v1/me).
// Contract with the page shell (web/app.js): each entry is
//   { id: '<url-safe id>', label: '<i18n key in ./strings.js>', Component }
// rendered at `#/admin/<id>` as html`<${Component} api=${api} me=${me} lang=${lang} />`, where
// `api` is web/api.js's client (api.request(method, path, body) → JSON, throws ApiError) and `me`
// is GET /api/v1/me. Strings live in ./strings.js ({ja: {...}, en: {...}}), merged into i18n's t().
import { CallsView } from './calls.js';
import { ContactsView } from './contacts.js';
import { CreditsView } from './credits.js';
import { FlowsView } from './flows.js';
import { MailboxesView } from './mailboxes.js';
import { NumbersView } from './numbers.js';
import { RemindersView } from './reminders.js';
import { ReportView } from './report.js';
import { RulesView } from './rules.js';
import { SegmentsView } from './segments.js';
import { SenderView } from './sender.js';
import { SmsNotificationsView } from './sms_notifications.js';
import { SuppressionsView } from './suppressions.js';
import { TelephonyUsersView } from './telephony_users.js';
import { TemplatesView } from './templates.js';
import { UsageView } from './usage.js';

// The console's stylesheets (its own and uPlot's), added once when the console is loaded.
const STYLESHEETS = ['/web/vendor/uplot/uPlot.min.css', '/web/admin/admin.css'];
if (typeof document !== 'undefined') {
  for (const href of STYLESHEETS) {
    if (!document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      document.head.append(link);
    }
  }
}

// In groups, so the navigation reads as sections (`group` names one: admin.group.<group>):
// account, messaging (templates, contacts and what sends to them), telephony, mailboxes.
// The sender registration view says so itself when the org is not in India.
export const adminViews = [
  { id: 'usage', label: 'admin.usage', Component: UsageView, group: 'account' },
  { id: 'credits', label: 'admin.credits', Component: CreditsView, group: 'account' },
  { id: 'report', label: 'admin.report', Component: ReportView, group: 'account' },
  { id: 'templates', label: 'admin.templates', Component: TemplatesView, group: 'messaging' },
  { id: 'contacts', label: 'admin.contacts', Component: ContactsView, group: 'messaging' },
  { id: 'segments', label: 'admin.segments', Component: SegmentsView, group: 'messaging' },
  { id: 'sms-notifications', label: 'admin.smsNotifications', Component: SmsNotificationsView, group: 'messaging' },
  { id: 'rules', label: 'admin.rules', Component: RulesView, group: 'messaging' },
  { id: 'reminders', label: 'admin.reminders', Component: RemindersView, group: 'messaging' },
  { id: 'suppressions', label: 'admin.suppressions', Component: SuppressionsView, group: 'messaging' },
  { id: 'sender', label: 'admin.sender', Component: SenderView, group: 'messaging' },
  { id: 'numbers', label: 'admin.numbers', Component: NumbersView, group: 'telephony' },
  { id: 'telephony-users', label: 'admin.telephonyUsers', Component: TelephonyUsersView, group: 'telephony' },
  { id: 'call-flows', label: 'admin.callFlows', Component: FlowsView, group: 'telephony' },
  { id: 'calls', label: 'admin.calls', Component: CallsView, group: 'telephony' },
  { id: 'mailboxes', label: 'admin.mailboxes', Component: MailboxesView, group: 'mail' },
];
