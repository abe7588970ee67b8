// The admin console's views, shown only to users whose role is "admin" (GET /api/v1/me).
// Contract with the page shell (web/app.js): each entry is
//   { id: '<url-safe id>', label: '<i18n key in ./strings.js>', Component }
// rendered at `#/admin/<id>` as html`<${Component} api=${api} me=${me} lang=${lang} />`, where
// `api` is web/api.js's client (api.request(method, path, body) → JSON, throws ApiError) and `me`
// is GET /api/v1/me. Strings live in ./strings.js ({ja: {...}, en: {...}}), merged into i18n's t().
import { CallsView } from './calls.js';
import { CreditsView } from './credits.js';
import { FlowsView } from './flows.js';
import { MailboxesView } from './mailboxes.js';
import { NumbersView } from './numbers.js';
import { ReportView } from './report.js';
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

export const adminViews = [
  { id: 'usage', label: 'admin.usage', Component: UsageView },
  { id: 'credits', label: 'admin.credits', Component: CreditsView },
  { id: 'templates', label: 'admin.templates', Component: TemplatesView },
  { id: 'report', label: 'admin.report', Component: ReportView },
  { id: 'numbers', label: 'admin.numbers', Component: NumbersView },
  { id: 'telephony-users', label: 'admin.telephonyUsers', Component: TelephonyUsersView },
  { id: 'call-flows', label: 'admin.callFlows', Component: FlowsView },
  { id: 'calls', label: 'admin.calls', Component: CallsView },
  { id: 'mailboxes', label: 'admin.mailboxes', Component: MailboxesView },
];
