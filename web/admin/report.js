// Email report: day/week/month and a date range; a uPlot chart (role=img with a label: the tables
// below are its text alternative) and the tables of counts and rates, in total and per template.
import { html, useEffect, useRef, useState } from '../ui.js';
import uPlot from '../vendor/uplot/uPlot.js';
import { DataTable, ErrorNote, Loading, ViewFrame, orgPath, useLoad } from './common.js';
import { REPORT_FIELDS, addDays, dayInZone, reportCells, reportQuery, reportSeries, tr } from './logic.js';

// One colour per field, readable on light and dark backgrounds.
const COLOURS = {
  sent: '#2563eb', bounced: '#dc2626', opened: '#0d9488', clicked: '#7c3aed', received: '#d97706', replied: '#16a34a',
};
const CHART_HEIGHT = 260;

function Chart({ report, lang, label }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || !report) return undefined;
    const { labels, fields, data } = reportSeries(report);
    const width = () => Math.max(280, el.clientWidth || 600);
    const muted = getComputedStyle(el).color || '#5b6474';
    const opts = {
      width: width(),
      height: CHART_HEIGHT,
      legend: { show: false }, // our own legend below; the tables carry the numbers
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] } },
      axes: [
        {
          stroke: muted,
          incrs: [1, 2, 5, 10, 20, 50],
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? '' : '')),
          grid: { show: false },
        },
        { stroke: muted, grid: { stroke: 'rgba(127,127,127,0.2)' } },
      ],
      series: [
        {},
        ...fields.map((f) => ({
          label: tr(lang, `admin.report.${f}`),
          stroke: COLOURS[f],
          width: 2,
          points: { show: true, size: 6 },
        })),
      ],
    };
    const plot = new uPlot(opts, data, el);
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT })) : null;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.destroy();
    };
  }, [report, lang]);
  return html`<figure class="admin-chart">
    <div class="admin-chart-canvas" id="report-chart" ref=${box} role="img" aria-label=${label}></div>
    <figcaption>
      <ul class="admin-legend" aria-hidden="true">
        ${REPORT_FIELDS.map((f) => html`<li><span class="admin-swatch" ref=${(el) => el && (el.style.background = COLOURS[f])}></span>
          ${tr(lang, `admin.report.${f}`)}</li>`)}
      </ul>
    </figcaption>
  </figure>`;
}

function Table({ id, caption, head, rows, lang }) {
  const t = (k, v) => tr(lang, k, v);
  return html`<${DataTable} id=${id} caption=${caption} head=${[head, ...REPORT_FIELDS.map((f) => [t(`admin.report.${f}`), 'num'])]}>
    ${rows.map(([name, row, cls]) => html`<tr class=${cls || ''}><th scope="row">${name}</th>
      ${reportCells(row, lang).map((c) => html`<td class="num">${c}</td>`)}</tr>`)}<//>`;
}

export function ReportView({ api, me, lang }) {
  const t = (k, v) => tr(lang, k, v);
  const tz = me.timezone || 'UTC';
  const today = dayInZone(Date.now(), tz);
  const [draft, setDraft] = useState({ from: addDays(today, -29), to: today, group: 'day' });
  const [query, setQuery] = useState(draft);
  const { data, error, loading } = useLoad(
    () => api.request('GET', orgPath(me, `/reports/email${reportQuery(query)}`)),
    [me.org, query.from, query.to, query.group],
  );
  const setGroup = (group) => {
    setDraft({ ...draft, group });
    setQuery({ ...query, group });
  };
  const apply = (ev) => {
    ev.preventDefault();
    setQuery({ ...draft });
  };
  const groups = ['day', 'week', 'month'];
  const chartLabel = t('admin.report.chart', { from: query.from, to: query.to, group: t(`admin.report.${query.group}`) });
  return html`<${ViewFrame} id="report" title=${t('admin.report.title')}>
    <form class="admin-filters" id="report-filters" onSubmit=${apply} novalidate>
      <fieldset class="admin-segmented">
        <legend>${t('admin.report.group')}</legend>
        ${groups.map((g) => html`<label class=${query.group === g ? 'is-on' : ''}>
          <input type="radio" name="report-group" value=${g} checked=${query.group === g} onChange=${() => setGroup(g)} />
          <span>${t(`admin.report.${g}`)}</span></label>`)}
      </fieldset>
      <div class="admin-field">
        <label for="report-from">${t('admin.report.from')}</label>
        <input id="report-from" type="date" value=${draft.from} onInput=${(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
      </div>
      <div class="admin-field">
        <label for="report-to">${t('admin.report.to')}</label>
        <input id="report-to" type="date" value=${draft.to} onInput=${(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
      </div>
      <button type="submit" class="primary-button">${t('admin.report.apply')}</button>
    </form>
    <${ErrorNote} error=${error} lang=${lang} id="report-error" />
    ${loading && !data && html`<${Loading} lang=${lang} />`}
    ${data && html`<p class="admin-muted">${t('admin.report.zone', { tz: data.timezone || tz })}</p>
      <${Chart} report=${data} lang=${lang} label=${chartLabel} />
      <${Table} id="report-table" lang=${lang} caption=${t('admin.report.tableCaption')} head=${t('admin.report.period')}
        rows=${[...(data.rows || []).map((r) => [r.period, r]), [t('admin.report.total'), data.total, 'is-total']]} />
      <h3>${t('admin.report.perTemplate')}</h3>
      ${(data.templates || []).length
        ? html`<${Table} id="report-templates" lang=${lang} caption=${t('admin.report.templatesCaption')}
            head=${t('admin.report.template')} rows=${data.templates.map((r) => [r.template, r])} />`
        : html`<p class="admin-muted">${t('admin.empty')}</p>`}`}
  <//>`;
}
