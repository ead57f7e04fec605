/**
 * Line charts of training curves (Chart.js + chartjs-plugin-zoom) in theme colours, with EMA
 * smoothing, log scale, zoom (Ctrl+wheel or drag a box) and pan (Shift+drag), reset, and
 * CSV / PNG export. The raw points of every curve are also written to the chart container's
 * `data-points` attribute (JSON `{ name: [[x, y], …] }`) so tests can read them.
 */
import {
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import type { ExportFormat } from '../src/protocol/webview.js';
import { seriesToCsv } from '../src/ui-common/exportFormats.js';
import { formatNumber } from '../src/ui-common/format.js';
import type { Point } from '../src/ui-common/metrics.js';
import { emaSmooth } from '../src/ui-common/smoothing.js';
import { button, FrameScheduler, h } from './dom.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip, zoomPlugin);

export interface ChartSeries {
  name: string;
  points: readonly Point[];
  /** Index into the theme palette (stable colour per series). */
  colour: number;
}

export interface ChartOptions {
  id: string;
  title: string;
  allowLog: boolean;
  yRange?: [number, number];
  /** Show values as percentages (accuracies). */
  percent?: boolean;
  wide?: boolean;
  /** Base of exported file names. */
  fileStem: string;
}

export interface ChartView {
  smoothing: number;
  logScale: boolean;
}

export type Exporter = (format: ExportFormat, fileName: string, data: string) => void;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const PALETTE_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-foreground'];
const PALETTE_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700', '#cccccc'];

/** Theme colour `i` of the chart palette (cycles; later cycles are dashed by the caller). */
export function paletteColour(i: number): string {
  const k = i % PALETTE_VARS.length;
  return cssVar(PALETTE_VARS[k], PALETTE_FALLBACK[k]);
}

function withAlpha(colour: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(colour);
  if (!m) return colour;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Paints the theme background under the chart, so an exported PNG is not transparent. */
const background: Plugin<'line'> = {
  id: 'avaBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = cssVar('--vscode-editor-background', '#1e1e1e');
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

function formatY(y: number, percent: boolean): string {
  return percent ? `${(y * 100).toFixed(1)}%` : formatNumber(y);
}

export class LineChart {
  readonly element: HTMLElement;
  private readonly box: HTMLElement;
  private readonly empty: HTMLElement;
  private chart: Chart<'line', Point[]> | undefined;
  private series: ChartSeries[] = [];
  private readonly renderer = new FrameScheduler(() => this.render());

  constructor(private readonly opts: ChartOptions, private view: ChartView, private readonly exportData: Exporter) {
    this.box = h('div', { class: 'chart-box' });
    this.empty = h('div', { class: 'chart-empty' }, 'No data yet.');
    this.element = h(
      'div',
      { class: `chart-card${opts.wide ? ' wide' : ''}`, 'data-testid': `chart-${opts.id}`, 'data-chart': opts.id, 'data-points': '{}' },
      h(
        'div',
        { class: 'chart-head' },
        h('h2', {}, opts.title),
        button('Reset zoom', 'reset-zoom', () => this.chart?.resetZoom(), { secondary: true, title: 'Also: double-click the chart' }),
        button('CSV', 'export-csv', () => this.exportCsv(), { secondary: true, title: 'Export the raw points as CSV' }),
        button('PNG', 'export-png', () => this.exportPng(), { secondary: true, title: 'Export the chart as a PNG image' }),
      ),
      this.empty,
      this.box,
    );
  }

  setSeries(series: ChartSeries[]): void {
    this.series = series;
    this.renderer.schedule();
  }

  setView(view: ChartView): void {
    this.view = view;
    this.renderer.schedule();
  }

  /** Re-read theme colours (the theme changed). */
  retheme(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.renderer.schedule();
  }

  destroy(): void {
    this.renderer.cancel();
    this.chart?.destroy();
    this.chart = undefined;
  }

  csv(): string {
    return seriesToCsv(this.series.map((s) => ({ name: s.name, points: s.points })));
  }

  private exportCsv(): void {
    this.exportData('csv', `${this.opts.fileStem}-${this.opts.id}.csv`, this.csv());
  }

  private exportPng(): void {
    if (this.chart) this.exportData('png', `${this.opts.fileStem}-${this.opts.id}.png`, this.chart.toBase64Image('image/png'));
  }

  private render(): void {
    const hasData = this.series.some((s) => s.points.length > 0);
    this.empty.classList.toggle('hidden', hasData);
    this.box.classList.toggle('hidden', !hasData);
    this.element.dataset.points = JSON.stringify(Object.fromEntries(this.series.map((s) => [s.name, s.points.map((p) => [p.x, p.y])])));
    this.element.dataset.series = this.series.map((s) => s.name).join('\n');
    if (!hasData) return;
    const datasets = this.series.flatMap((s) => this.datasets(s));
    if (!this.chart) {
      this.chart = this.create(datasets);
      return;
    }
    this.chart.data.datasets = datasets;
    const y = this.chart.options.scales?.y;
    if (y) Object.assign(y, this.yBounds(), { type: this.logScale() ? 'logarithmic' : 'linear' });
    this.chart.update('none');
  }

  /**
   * Fixed bounds for accuracies; for a flat curve (a constant lr) a ±10 % window, so the axis
   * does not zoom into floating-point noise.
   */
  private yBounds(): { min?: number; max?: number } {
    if (this.opts.yRange) return { min: this.opts.yRange[0], max: this.opts.yRange[1] };
    const ys = this.series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
    if (ys.length === 0) return { min: undefined, max: undefined };
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    if (hi - lo > 1e-9 * Math.max(Math.abs(hi), Math.abs(lo), 1e-12)) return { min: undefined, max: undefined };
    const pad = Math.abs(hi) * 0.1 || 1;
    return { min: lo - pad, max: hi + pad };
  }

  private logScale(): boolean {
    return this.opts.allowLog && this.view.logScale;
  }

  /** A curve is drawn smoothed, with its raw points faint behind it when smoothing is on. */
  private datasets(s: ChartSeries): ChartDataset<'line', Point[]>[] {
    const colour = paletteColour(s.colour);
    const dashed = s.colour >= PALETTE_VARS.length ? [6, 3] : [];
    const base = { borderColor: colour, backgroundColor: colour, borderDash: dashed, pointRadius: s.points.length > 60 ? 0 : 2, borderWidth: 1.5, parsing: false as const };
    const w = this.view.smoothing;
    if (w <= 0) return [{ ...base, label: s.name, data: [...s.points] }];
    const ys = emaSmooth(s.points.map((p) => p.y), w);
    return [
      { ...base, label: s.name, data: s.points.map((p, i) => ({ x: p.x, y: ys[i] })) },
      { ...base, label: `${s.name} (raw)`, data: [...s.points], borderColor: withAlpha(colour, 0.25), pointRadius: 0, borderWidth: 1 },
    ];
  }

  private create(datasets: ChartDataset<'line', Point[]>[]): Chart<'line', Point[]> {
    const fg = cssVar('--vscode-foreground', '#cccccc');
    const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
    const font = { family: cssVar('--vscode-font-family', 'sans-serif'), size: 11 };
    const percent = this.opts.percent === true;
    const canvas = h('canvas', { 'aria-label': this.opts.title, role: 'img' });
    this.box.replaceChildren(canvas);
    canvas.addEventListener('dblclick', () => this.chart?.resetZoom());
    return new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      plugins: [background],
      options: {
        animation: false,
        maintainAspectRatio: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step', color: fg, font }, ticks: { color: fg, font }, grid: { color: grid } },
          y: {
            type: this.logScale() ? 'logarithmic' : 'linear',
            ...this.yBounds(),
            ticks: { color: fg, font, callback: (v) => (percent ? `${Math.round(Number(v) * 100)}%` : formatNumber(Number(v))) },
            grid: { color: grid },
          },
        },
        plugins: {
          legend: { labels: { color: fg, font, boxWidth: 12, filter: (item) => !item.text.endsWith('(raw)') } },
          tooltip: {
            filter: (item) => !(item.dataset.label ?? '').endsWith('(raw)'),
            callbacks: { label: (item) => `${item.dataset.label}: ${formatY(item.parsed.y ?? Number.NaN, percent)}` },
          },
          zoom: {
            zoom: { wheel: { enabled: true, modifierKey: 'ctrl' }, drag: { enabled: true, backgroundColor: withAlpha(paletteColour(0), 0.15) }, pinch: { enabled: true }, mode: 'x' },
            pan: { enabled: true, mode: 'x', modifierKey: 'shift' },
          },
        },
      },
    });
  }
}
