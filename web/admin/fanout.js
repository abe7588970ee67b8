// Segment sends (fan-outs) in the admin views, shared by the segment mass mail and the SMS
// notification triggered for a segment: polling GET .../fanouts/{id} until finished, the progress
// bar and its line, and the per-member results (GET .../fanouts/{id}/results, paged).
import { html, useEffect, useState } from '../ui.js';
import { DataTable, ErrorNote, Loading, Pager, orgPath, useLoad, usePager } from './common.js';
import { errorMessage, tr } from './logic.js';
import { fanoutProgress, fanoutResultsQuery, fanoutText } from './messaging_logic.js';

const POLL_MS = 1000;
const PAGE = 25;

/** A segment send, polled every second until it is finished: {fanout, setFanout, error}.
 *  `initial`: the send as the POST answered it (or null: nothing sent yet). A failed poll is shown
 *  (`error`) and retried at the next interval. */
export function useFanout(api, me, initial = null) {
  const [fanout, setFanout] = useState(initial);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!fanout || fanoutProgress(fanout).finished) return undefined;
    let live = true;
    const timer = setTimeout(async () => {
      try {
        const next = await api.request('GET', orgPath(me, `/fanouts/${encodeURIComponent(fanout.id)}`));
        if (!live) return;
        setFanout(next);
        setError(null);
      } catch (err) {
        if (!live) return;
        setError(err);
        setFanout({ ...fanout }); // try again after the next interval
      }
    }, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [fanout]);
  return { fanout, setFanout: (f) => { setError(null); setFanout(f); }, error };
}

/** The bar and its line ("Done: 12 of 12 sent · 1,488 skipped (no mobile)"); ids `<idPrefix>-progress`,
 *  `-bar`, `-text`; `why`: why members are skipped, when the view knows. */
export function FanoutProgress({ lang, fanout, idPrefix, why = '' }) {
  const p = fanoutProgress(fanout);
  const text = fanoutText(fanout, lang, why);
  return html`<div class="admin-meter" id=${`${idPrefix}-progress`} data-finished=${p.finished ? 'true' : 'false'}
      data-done=${p.done} data-of=${p.of} data-skipped=${p.skipped}>
    <label for=${`${idPrefix}-bar`}>${tr(lang, 'admin.fanout.progress')}</label>
    <progress id=${`${idPrefix}-bar`} max="100" value=${p.pct} aria-valuetext=${text}>${p.pct}%</progress>
    <p class=${p.finished ? 'admin-ok' : 'admin-muted'} role="status" id=${`${idPrefix}-text`}>${text}</p>
  </div>`;
}

/** One row per contact: {contact, notification} (queued, with its id) or {contact, error} (none
 *  made: the reason in the admin's language). `names`: contact id → name, when known. */
/** A result's contact: its name with the id as secondary text, or the id alone (deleted, unnamed). */
function contactCell(name, id) {
  if (!name) return html`<span class="admin-mono" data-contact-id>${id}</span>`;
  return html`<span data-contact-name>${name}</span> <span class="admin-mono admin-small admin-muted" data-contact-id>${id}</span>`;
}

export function ResultsTable({ lang, id, caption, rows, names = {}, skippedChip = false }) {
  const t = (k, v) => tr(lang, k, v);
  return html`<${DataTable} id=${id} caption=${caption} head=${[t('admin.smsn.contact'), t('admin.contacts.result')]}>
    ${rows.map((r) => html`<tr key=${r.contact} data-contact=${r.contact} data-result=${r.error || 'sent'}>
        <th scope="row">${contactCell(r.name || names[r.contact], r.contact)}</th>
        <td>${r.notification
          ? html`<span class="admin-chip tone-ok">${t('admin.smsn.queued')}</span> <span class="admin-mono admin-small">${r.notification}</span>`
          : skippedChip
            ? html`<span class="admin-chip tone-wait">${t('admin.fanout.skippedChip')}</span> <span data-reason=${r.error}>${errorMessage({ code: r.error }, lang)}</span>`
            : html`<span class="admin-chip tone-bad">${errorMessage({ code: r.error }, lang)}</span>`}</td>
      </tr>`)}<//>`;
}

/** The per-member results of a send, a page at a time; reloaded when the send finishes, and on
 *  demand while it runs. Ids `<idPrefix>-results`, `-results-table`, `-results-pager`. */
export function FanoutResults({ api, me, lang, fanout, idPrefix }) {
  const t = (k, v) => tr(lang, k, v);
  const pager = usePager();
  const finished = fanoutProgress(fanout).finished;
  const { data, error, loading, reload } = useLoad(
    () => api.request('GET', orgPath(me, `/fanouts/${encodeURIComponent(fanout.id)}/results${fanoutResultsQuery(pager.cursor, PAGE)}`)),
    [me.org, fanout.id, pager.cursor, finished],
  );
  const rows = (data?.results || []).map((r) => ({ contact: r.contact, name: r.name ?? '', notification: r.notification ?? '', error: r.error ?? '' }));
  return html`<div class="admin-block" id=${`${idPrefix}-results`} aria-busy=${loading ? 'true' : 'false'}>
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    <${ErrorNote} error=${error} lang=${lang} id=${`${idPrefix}-results-error`} />
    ${data && !rows.length && html`<p class="admin-muted">${t('admin.fanout.noResults')}</p>`}
    ${rows.length > 0 && html`<${ResultsTable} lang=${lang} id=${`${idPrefix}-results-table`} caption=${t('admin.fanout.results')}
      rows=${rows} skippedChip=${true} />`}
    <${Pager} lang=${lang} pager=${pager} nextCursor=${data?.cursor} id=${`${idPrefix}-results-pager`} />
    ${!finished && html`<div class="admin-actions"><button type="button" class="small-button" id=${`${idPrefix}-results-refresh`}
      onClick=${reload}>${t('admin.fanout.refresh')}</button></div>`}
  </div>`;
}

/** A send's results, shown once it is finished or when the admin asks while it runs. */
export function FanoutResultsOnDemand({ api, me, lang, fanout, idPrefix }) {
  const [asked, setAsked] = useState(false);
  if (!asked && !fanoutProgress(fanout).finished) {
    return html`<div class="admin-actions"><button type="button" class="small-button" id=${`${idPrefix}-show-results`}
      onClick=${() => setAsked(true)}>${tr(lang, 'admin.fanout.showResults')}</button></div>`;
  }
  return html`<${FanoutResults} api=${api} me=${me} lang=${lang} fanout=${fanout} idPrefix=${idPrefix} />`;
}
