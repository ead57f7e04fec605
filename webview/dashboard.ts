/**
 * Run dashboard page: status header with progress, final-metric cards, and one chart per group
 * of curves (loss terms overlaid or split, reward accuracy, every other metric alone), with
 * smoothing, log scale and zoom. Live: records and status arrive as increments.
 */
import type { EvalSummary } from '../src/protocol/events.js';
import type { DashboardInit, HostToWebview, RunSummary } from '../src/protocol/webview.js';
import { MetricStore, dashboardGroups, seriesName, seriesPoints, type ChartGroup } from '../src/ui-common/metrics.js';
import { LineChart, type ChartView } from './chart.js';
import { finalCards, plottedRecords, progressText, runTitle, statusText } from './dashboardModel.js';
import { button, checkbox, FrameScheduler, h, replaceChildren, slider } from './dom.js';
import { exporter, type Page } from './page.js';
import { loadState, post, saveState } from './vscodeApi.js';

interface DashboardUi {
  smoothing: number;
  logScale: boolean;
  /** One chart per loss term instead of all overlaid. */
  split: boolean;
}

const DEFAULT_UI: DashboardUi = { smoothing: 0.6, logScale: false, split: false };

export class DashboardPage implements Page {
  private readonly ui: DashboardUi;
  private init: DashboardInit | undefined;
  private store = new MetricStore();
  private evals = new Map<number, EvalSummary>();
  private final: EvalSummary | null = null;
  private run: RunSummary | undefined;
  private readonly charts = new Map<string, LineChart>();
  /** Coalesces bursts of live messages into one render per frame. */
  private readonly renderer = new FrameScheduler(() => this.render());
  private readonly header = h('div', { class: 'panel-header', 'data-testid': 'run-header' });
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'final-metrics' });
  private readonly chartGrid = h('div', { class: 'charts', 'data-testid': 'charts' });

  constructor(private readonly root: HTMLElement) {
    this.ui = { ...DEFAULT_UI, ...loadState<DashboardUi>().ui };
  }

  receive(m: HostToWebview): void {
    if (m.type === 'dashboard/init') return this.start(m);
    if (!this.init) return; // increments before the snapshot: the snapshot has them
    switch (m.type) {
      case 'dashboard/records':
        for (const r of m.records) this.store.upsert(r);
        break;
      case 'dashboard/eval':
        if (m.final) this.final = m.summary;
        else this.evals.set(m.summary.step, m.summary);
        break;
      case 'dashboard/run':
        this.run = m.run;
        break;
      default:
        return;
    }
    this.renderer.schedule();
  }

  retheme(): void {
    for (const c of this.charts.values()) c.retheme();
  }

  private start(init: DashboardInit): void {
    this.init = init;
    this.store = new MetricStore(init.records);
    this.evals = new Map(init.evals.map((e) => [e.step, e]));
    this.final = init.final;
    this.run = init.run;
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
    this.persist();
    replaceChildren(this.root, this.header, this.cards, this.toolbar(), this.chartGrid);
    this.root.removeAttribute('aria-busy');
    this.renderer.schedule();
  }

  private persist(): void {
    saveState<DashboardUi>({ args: this.init?.args, ui: this.ui });
  }

  private toolbar(): HTMLElement {
    const changed = (): void => {
      this.persist();
      this.renderer.schedule();
    };
    return h(
      'div',
      { class: 'toolbar', 'data-testid': 'dashboard-toolbar' },
      slider('Smoothing', 'smoothing', this.ui.smoothing, 0.99, 0.01, (v) => {
        this.ui.smoothing = v;
        changed();
      }),
      checkbox('Log scale', 'log-scale', this.ui.logScale, (v) => {
        this.ui.logScale = v;
        changed();
      }),
      checkbox('One chart per loss term', 'split-losses', this.ui.split, (v) => {
        this.ui.split = v;
        changed();
      }),
      h('span', { class: 'hint' }, 'Zoom: drag a box or Ctrl+wheel · pan: Shift+drag · reset: double-click'),
      h('span', { class: 'spacer' }),
      button('Token rewards', 'open-token-rewards', () => this.init && post({ type: 'openTokenRewards', runDir: this.init.args.runDir }), { secondary: true }),
    );
  }

  private render(): void {
    const run = this.run;
    if (!run) return;
    const records = this.store.all();
    const lastStep = records.filter((r) => r.phase === 'train').at(-1)?.step ?? 0;
    this.renderHeader(run, lastStep);
    this.renderCards();
    this.renderCharts();
  }

  private renderHeader(run: RunSummary, lastStep: number): void {
    const step = Math.max(run.step, lastStep);
    const status = statusText(run);
    replaceChildren(
      this.header,
      h('h1', { 'data-testid': 'run-title' }, runTitle(run)),
      h(
        'div',
        { class: 'subtitle' },
        h('span', { class: 'status', 'data-testid': 'run-status', 'data-status': run.interrupted ? 'failed' : run.status }, status),
        h('span', { 'data-testid': 'run-progress-text', 'data-step': step, 'data-total': run.totalSteps }, progressText(run, lastStep)),
        h('span', { class: 'muted', title: run.runDir }, run.runDir),
      ),
      run.totalSteps > 0 && run.status === 'running'
        ? h('div', { class: 'progress' }, h('vscode-progress-bar', { 'data-testid': 'run-progress', value: step, max: run.totalSteps, 'aria-label': 'training progress' }))
        : null,
      run.error ? h('div', { class: 'error', 'data-testid': 'run-error' }, run.error) : null,
      run.interrupted ? h('div', { class: 'warning' }, 'The process that ran this run is gone: it was killed before finishing. Resume it from the Runs view.') : null,
      ...run.alarms.map((a) =>
        h(
          'div',
          { class: 'alarm', role: 'alert', 'data-testid': 'run-alarm', 'data-kind': a.kind },
          h('strong', {}, `⚠ ${a.title}`),
          h('span', {}, ` (step ${a.step}). ${a.diagnosis}.`),
          h('div', {}, `Try: ${a.remedy}.`),
        ),
      ),
    );
  }

  private renderCards(): void {
    const cards = finalCards(this.final, this.store.all());
    replaceChildren(
      this.cards,
      ...cards.map((c) =>
        h(
          'div',
          { class: 'card', 'data-testid': 'final-metric', 'data-key': c.key, 'data-value': c.raw },
          h('div', { class: 'label' }, c.label),
          h('div', { class: 'value' }, c.value),
          c.detail ? h('div', { class: 'detail' }, c.detail) : null,
        ),
      ),
    );
  }

  private groups(): ChartGroup[] {
    const groups = dashboardGroups(plottedRecords(this.store.all(), [...this.evals.values()]));
    if (!this.ui.split) return groups;
    return groups.flatMap((g) =>
      g.id === 'losses' ? g.series.map((s) => ({ ...g, id: `loss-${s.phase}-${s.key}`, title: seriesName(s), series: [s] })) : [g],
    );
  }

  private renderCharts(): void {
    const records = plottedRecords(this.store.all(), [...this.evals.values()]);
    const view: ChartView = { smoothing: this.ui.smoothing, logScale: this.ui.logScale };
    const groups = this.groups();
    const wanted = new Set(groups.map((g) => g.id));
    for (const [id, chart] of this.charts) {
      if (!wanted.has(id)) {
        chart.destroy();
        chart.element.remove();
        this.charts.delete(id);
      }
    }
    for (const g of groups) {
      const chart = this.charts.get(g.id) ?? this.addChart(g, view);
      chart.setView(view);
      chart.setSeries(g.series.map((s, i) => ({ name: seriesName(s), points: seriesPoints(records, s), colour: i })));
    }
    // keep the DOM in group order
    this.chartGrid.append(...groups.map((g) => this.charts.get(g.id)!.element));
  }

  private addChart(g: ChartGroup, view: ChartView): LineChart {
    const stem = this.run ? runTitle(this.run).replace(/ \/ /g, '-') : 'run';
    const chart = new LineChart(
      { id: g.id, title: g.title, allowLog: g.allowLog, yRange: g.yRange, percent: g.id === 'accuracy', wide: g.id === 'losses', fileStem: stem },
      view,
      exporter,
    );
    this.charts.set(g.id, chart);
    return chart;
  }
}
