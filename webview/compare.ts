/**
 * Compare page: a result table (one row per variant, or per run; mean ± std over seeds; best per
 * column starred; deltas to a chosen baseline with McNemar's p on reward accuracy), overlaid curves of any metric (mean over seeds),
 * and the keys of the resolved configs that differ. Tables export as Markdown, LaTeX and CSV.
 */
import type { CompareInit, CompareRun, HostToWebview } from '../src/protocol/webview.js';
import { diffConfigs } from '../src/ui-common/configDiff.js';
import { toCsv, toLatexTable, toMarkdownTable } from '../src/ui-common/exportFormats.js';
import { formatDelta, formatMeanStd } from '../src/ui-common/format.js';
import { allSeries, meanCurve, seriesName, seriesPoints, type SeriesRef } from '../src/ui-common/metrics.js';
import { baselineDeltas, baselineMcNemar, buildResultTable, resultDescriptors, resultTextTable, type Grouping, type ResultTable } from '../src/ui-common/results.js';
import { LineChart } from './chart.js';
import { plottedRecords } from './dashboardModel.js';
import { button, checkbox, h, replaceChildren, select, slider } from './dom.js';
import { exporter, type Page } from './page.js';
import { loadState, post, saveState } from './vscodeApi.js';

interface CompareUi {
  grouping: Grouping;
  /** Row key of the baseline, or '' for none. */
  baseline: string;
  /** `phase:key` of the overlaid curve. */
  curve: string;
  smoothing: number;
  logScale: boolean;
}

const DEFAULT_UI: CompareUi = { grouping: 'variant', baseline: '', curve: 'train:loss', smoothing: 0.6, logScale: false };
const NONE = '';

export class ComparePage implements Page {
  private readonly ui: CompareUi;
  private init: CompareInit | undefined;
  private runs = new Map<string, CompareRun>();
  private chart: LineChart | undefined;
  private readonly header = h('div', { class: 'panel-header', 'data-testid': 'compare-header' });
  private readonly tableSection = h('section', { 'data-testid': 'results' });
  private readonly curveSection = h('section', { 'data-testid': 'curves' });
  private readonly diffSection = h('section', { 'data-testid': 'config-diff-section' });

  constructor(private readonly root: HTMLElement) {
    this.ui = { ...DEFAULT_UI, ...loadState<CompareUi>().ui };
  }

  receive(m: HostToWebview): void {
    if (m.type === 'compare/init') return this.start(m);
    if (!this.init || m.type !== 'compare/run') return;
    this.runs.set(m.run.run.runDir, m.run);
    this.render();
  }

  retheme(): void {
    this.chart?.retheme();
  }

  private start(init: CompareInit): void {
    this.init = init;
    this.runs = new Map(init.runs.map((r) => [r.run.runDir, r]));
    this.chart?.destroy();
    this.chart = undefined;
    this.persist();
    replaceChildren(this.root, this.header, this.tableSection, this.curveSection, this.diffSection);
    this.root.removeAttribute('aria-busy');
    this.render();
  }

  private persist(): void {
    saveState<CompareUi>({ args: this.init?.args, ui: this.ui });
  }

  private set<K extends keyof CompareUi>(key: K, value: CompareUi[K]): void {
    this.ui[key] = value;
    this.persist();
    this.render();
  }

  private render(): void {
    const runs = [...this.runs.values()];
    const table = buildResultTable(runs, resultDescriptors(runs), this.ui.grouping);
    this.renderHeader(runs, table);
    this.renderTable(table);
    this.renderCurves(table);
    this.renderDiff(runs);
  }

  private baselineIndex(table: ResultTable): number | null {
    const i = table.rows.findIndex((r) => r.key === this.ui.baseline);
    return i >= 0 ? i : null;
  }

  private renderHeader(runs: CompareRun[], table: ResultTable): void {
    const experiments = [...new Set(runs.map((r) => r.run.experiment))];
    const variants = new Set(runs.map((r) => r.run.variant)).size;
    const running = runs.filter((r) => r.run.status === 'running' && !r.run.interrupted).length;
    replaceChildren(
      this.header,
      h('h1', { 'data-testid': 'compare-title' }, `Compare: ${experiments.join(', ') || 'runs'}`),
      h(
        'div',
        { class: 'subtitle' },
        h('span', { 'data-testid': 'compare-counts', 'data-runs': runs.length, 'data-variants': variants }, `${runs.length} runs · ${variants} variants`),
        running ? h('span', { class: 'status', 'data-status': 'running' }, `${running} running`) : null,
      ),
      this.init?.missing.length ? h('div', { class: 'warning', 'data-testid': 'compare-missing' }, `No run found at: ${this.init.missing.join(', ')}`) : null,
      h(
        'div',
        { class: 'toolbar' },
        select('Rows', 'group-by', [['variant', 'one per variant (mean ± std over seeds)'], ['run', 'one per run']], this.ui.grouping, (v) => this.set('grouping', v as Grouping)),
        select('Baseline', 'baseline', [[NONE, 'none'], ...table.rows.map((r): [string, string] => [r.key, r.label])], this.ui.baseline, (v) => this.set('baseline', v)),
        h('span', { class: 'spacer' }),
        button('Markdown', 'export-md', () => this.exportTable(table, 'md'), { secondary: true, title: 'Export the table as Markdown' }),
        button('LaTeX', 'export-tex', () => this.exportTable(table, 'tex'), { secondary: true, title: 'Export the table as LaTeX (booktabs)' }),
        button('CSV', 'export-table-csv', () => this.exportTable(table, 'csv'), { secondary: true, title: 'Export the table as CSV' }),
      ),
    );
  }

  private exportTable(table: ResultTable, format: 'md' | 'tex' | 'csv'): void {
    const stem = `compare-${[...new Set([...this.runs.values()].map((r) => r.run.experiment))].join('-')}`;
    const text = resultTextTable(table, this.baselineIndex(table), 'Final metrics (mean ± std over seeds; best in bold)');
    const data = format === 'md' ? toMarkdownTable(text) : format === 'tex' ? toLatexTable(text) : toCsv(text.header, text.rows);
    exporter(format, `${stem}.${format}`, data);
  }

  /** McNemar's p against the baseline, starred below 0.05. */
  private significance(m: { p: number; onlyRow: number; onlyBaseline: number }): HTMLElement {
    const p = m.p < 0.001 ? '< 0.001' : m.p.toFixed(3);
    return h(
      'span',
      { class: 'significance muted', 'data-testid': 'significance', 'data-p': m.p, title: `McNemar's exact test against the baseline: ${m.onlyRow} pairs only this row ranks right, ${m.onlyBaseline} only the baseline does (summed over seeds)` },
      ` p ${p}${m.p < 0.05 ? ' ★' : ''}`,
    );
  }

  private renderTable(table: ResultTable): void {
    const baseline = this.baselineIndex(table);
    const deltas = baseline === null ? null : baselineDeltas(table, baseline);
    const mcnemar = baseline === null ? null : baselineMcNemar(table, baseline);
    const head = h(
      'tr',
      {},
      h('th', {}, table.grouping === 'variant' ? 'Variant' : 'Run'),
      h('th', { title: 'runs (seeds) in the row' }, 'n'),
      ...table.columns.map((c) => h('th', { 'data-metric': c.id, title: `${c.help}${c.better ? ` (${c.better} is better)` : ''}` }, c.label)),
    );
    const rows = table.rows.map((row, i) =>
      h(
        'tr',
        { 'data-testid': 'compare-row', 'data-key': row.key, 'data-label': row.label, class: baseline === i ? 'baseline' : undefined, 'data-baseline': baseline === i },
        h('td', {}, row.label, this.runLinks(row.runs)),
        h('td', {}, row.runs.length),
        ...row.cells.map((cell, j) => {
          const col = table.columns[j];
          const d = deltas && baseline !== i ? deltas[i][j] : undefined;
          const tone = d === undefined || col.better === null || d === 0 ? '' : (d > 0) === (col.better === 'higher') ? ' better' : ' worse';
          return h(
            'td',
            { 'data-metric': col.id, 'data-mean': cell?.mean, 'data-std': cell?.std, 'data-n': cell?.n, 'data-best': table.best[i][j], class: table.best[i][j] ? 'best' : undefined },
            formatMeanStd(cell, col.kind),
            d !== undefined ? h('span', { class: `delta${tone}`, 'data-testid': 'delta', 'data-delta': d }, `Δ ${formatDelta(d, col.kind)}`) : null,
            col.id === 'reward_acc' && mcnemar?.[i] ? this.significance(mcnemar[i]!) : null,
          );
        }),
      ),
    );
    replaceChildren(
      this.tableSection,
      h('h2', {}, 'Final metrics'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': 'compare-table' }, h('thead', {}, head), h('tbody', {}, ...rows))),
      table.columns.length === 0 ? h('div', { class: 'muted' }, 'No final metrics yet.') : null,
    );
  }

  /** Links to each run's dashboard (seed labels) inside a row's label cell. */
  private runLinks(runs: CompareRun[]): HTMLElement {
    return h(
      'span',
      { class: 'run-links' },
      ...runs.map((r) =>
        h('button', { class: 'link', 'data-testid': 'open-run', 'data-run-dir': r.run.runDir, title: `Open the dashboard of ${r.run.runDir}`, onclick: () => post({ type: 'openDashboard', runDir: r.run.runDir }) },
          r.run.seed === null ? 'run' : `s${r.run.seed}`, r.run.interrupted || r.run.status !== 'finished' ? ` (${r.run.interrupted ? 'interrupted' : r.run.status})` : ''),
      ),
    );
  }

  private curveOptions(): SeriesRef[] {
    const refs = new Map<string, SeriesRef>();
    for (const r of this.runs.values()) for (const s of allSeries(plottedRecords(r.records, r.evals))) refs.set(`${s.phase}:${s.key}`, s);
    return [...refs.values()];
  }

  private renderCurves(table: ResultTable): void {
    const options = this.curveOptions();
    const current = options.find((s) => `${s.phase}:${s.key}` === this.ui.curve) ?? options[0];
    if (!current) {
      replaceChildren(this.curveSection, h('h2', {}, 'Curves'), h('div', { class: 'muted' }, 'No metrics logged yet.'));
      return;
    }
    const percent = current.key.endsWith('_acc');
    if (!this.chart || this.chart.element.dataset.chart !== `compare-${current.phase}-${current.key}`) {
      this.chart?.destroy();
      this.chart = new LineChart(
        { id: `compare-${current.phase}-${current.key}`, title: seriesName(current), allowLog: !percent, percent, yRange: percent ? [0, 1] : undefined, wide: true, fileStem: 'compare' },
        { smoothing: this.ui.smoothing, logScale: this.ui.logScale },
        exporter,
      );
      this.chart.element.setAttribute('data-testid', 'chart-compare');
    }
    this.chart.setView({ smoothing: this.ui.smoothing, logScale: this.ui.logScale });
    this.chart.setSeries(
      table.rows.map((row, i) => ({
        name: row.label,
        points: meanCurve(row.runs.map((r) => seriesPoints(plottedRecords(r.records, r.evals), current))),
        colour: i,
      })),
    );
    if (this.curveSection.contains(this.chart.element)) return;
    replaceChildren(
      this.curveSection,
      h('h2', {}, 'Curves', h('span', { class: 'muted' }, table.grouping === 'variant' ? ' (mean over seeds)' : '')),
      h(
        'div',
        { class: 'toolbar' },
        select('Metric', 'curve-metric', options.map((s): [string, string] => [`${s.phase}:${s.key}`, seriesName(s)]), `${current.phase}:${current.key}`, (v) => this.set('curve', v)),
        slider('Smoothing', 'smoothing', this.ui.smoothing, 0.99, 0.01, (v) => this.set('smoothing', v)),
        checkbox('Log scale', 'log-scale', this.ui.logScale, (v) => this.set('logScale', v)),
      ),
      h('div', { class: 'charts' }, this.chart.element),
    );
  }

  private renderDiff(runs: CompareRun[]): void {
    const columns = buildResultTable(runs, [], 'variant').rows.map((row) => ({ label: row.label, configs: row.runs.map((r) => r.config).filter((c) => c !== null) }));
    const rows = diffConfigs(columns, ['name', 'variant']);
    replaceChildren(
      this.diffSection,
      h('h2', {}, 'Config differences', h('span', { class: 'muted' }, ' (resolved config.yaml; only keys that differ)')),
      rows.length === 0
        ? h('div', { class: 'muted', 'data-testid': 'config-diff-empty' }, columns.length < 2 ? 'Only one variant.' : 'The variants have the same config.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data', 'data-testid': 'config-diff' },
              h('thead', {}, h('tr', {}, h('th', {}, 'key'), ...columns.map((c) => h('th', {}, c.label)))),
              h('tbody', {}, ...rows.map((r) => h('tr', { 'data-key': r.key }, h('td', { class: 'key' }, r.key), ...r.values.map((v) => h('td', {}, v))))),
            ),
          ),
    );
  }
}
