/**
 * Token-reward page: one sample at a time, chosen and rejected side by side, each response token
 * coloured by its reward mean on a diverging scale centred at 0 (src/ui-common/colorScale.ts),
 * its std as a band under it, its weight w_t as a bar (toggle) and its value (toggle). Samples
 * come from the run's dump (with the list of misranked pairs) or from any line of a data file.
 */
import type { LineRewards, TokenReward } from '../src/protocol/events.js';
import type { ColorSchemeName, HostToWebview, LineTarget, TokenRewardsInit } from '../src/protocol/webview.js';
import { divergingOverlay, toRgba } from '../src/ui-common/colorScale.js';
import { formatNumber } from '../src/ui-common/format.js';
import { button, checkbox, h, replaceChildren, select } from './dom.js';
import type { Page } from './page.js';
import { colourDomain, maxOf, misrankedPairs, needsGaps, rewardText, sidesOf, stdBand, tokenLabel, tokenTooltip, type Side } from './tokenModel.js';
import { loadState, post, saveState } from './vscodeApi.js';

type Source = 'dump' | 'file';

interface TokensUi {
  source: Source;
  /** Index into the dump. */
  index: number;
  /** 1-based line of the data file. */
  line: number;
  weights: boolean;
  values: boolean;
  /** One colour domain for all dump samples instead of per sample. */
  globalScale: boolean;
}

const DEFAULT_UI: TokensUi = { source: 'dump', index: 0, line: 1, weights: false, values: false, globalScale: false };
const MAX_ALPHA = 0.8;
const SIDE_TITLES: Record<Side, string> = { chosen: 'Chosen', rejected: 'Rejected', response: 'Response' };

export class TokenRewardsPage implements Page {
  private ui: TokensUi;
  private init: TokenRewardsInit | undefined;
  private scheme: ColorSchemeName = 'blue-orange';
  /** Lines of the data file computed so far (or their errors). */
  private readonly lines = new Map<number, { result?: LineRewards; error?: string }>();
  private readonly header = h('div', { class: 'panel-header', 'data-testid': 'tokens-header' });
  private readonly body = h('div', { class: 'layout' });

  constructor(private readonly root: HTMLElement) {
    this.ui = { ...DEFAULT_UI, ...loadState<TokensUi>().ui };
  }

  receive(m: HostToWebview): void {
    switch (m.type) {
      case 'tokens/init':
        return this.start(m);
      case 'tokens/line':
        this.lines.set(m.line, { result: m.result, error: m.error });
        break;
      case 'tokens/goto':
        this.ui = { ...this.ui, source: 'file', line: m.line };
        this.request();
        break;
      case 'colorScheme':
        this.scheme = m.scheme;
        break;
      default:
        return;
    }
    if (this.init) this.render();
  }

  retheme(): void {
    if (this.init) this.render();
  }

  private start(init: TokenRewardsInit): void {
    // New arguments (opened on another line): show that line. The same arguments (the page was
    // reloaded): keep what the user was looking at, saved with them.
    const argsChanged = JSON.stringify(init.args) !== JSON.stringify(this.init?.args ?? loadState<TokensUi>().args);
    this.init = init;
    this.scheme = init.colorScheme;
    if (argsChanged && init.args.line !== undefined && init.dataFile) this.ui = { ...this.ui, source: 'file', line: init.args.line };
    if (!init.dataFile) this.ui.source = 'dump';
    if (init.dump.length === 0 && init.dataFile) this.ui.source = 'file';
    this.ui.index = Math.min(this.ui.index, Math.max(0, init.dump.length - 1));
    replaceChildren(this.root, this.header, this.body);
    this.root.removeAttribute('aria-busy');
    if (this.ui.source === 'file') this.request();
    this.render();
  }

  private update(patch: Partial<TokensUi>): void {
    this.ui = { ...this.ui, ...patch };
    if (this.ui.source === 'file' && !this.lines.has(this.ui.line)) this.request();
    this.render();
  }

  private request(): void {
    this.lines.delete(this.ui.line);
    post({ type: 'requestLine', line: this.ui.line });
  }

  /** The sample on screen, with where a click on it should jump. */
  private current(): { sample?: LineRewards; error?: string; loading?: boolean; target: LineTarget; line: number } {
    const init = this.init!;
    if (this.ui.source === 'file') {
      const entry = this.lines.get(this.ui.line);
      return { sample: entry?.result, error: entry?.error, loading: entry === undefined, target: 'dataFile', line: this.ui.line };
    }
    const sample = init.dump[this.ui.index];
    if (!sample) return { error: init.dumpError ?? 'This run has no token_rewards.jsonl yet (it is written by the final evaluation).', target: 'dump', line: 1 };
    return init.evalDataFile ? { sample, target: 'evalData', line: sample.line } : { sample, target: 'dump', line: this.ui.index + 1 };
  }

  private render(): void {
    saveState<TokensUi>({ args: this.init?.args, ui: this.ui });
    const cur = this.current();
    this.renderHeader(cur.sample);
    const main = h('div', { 'data-testid': 'sample-view' });
    if (cur.loading) main.append(h('div', { class: 'loading', 'data-testid': 'tokens-loading' }, `Computing the rewards of line ${this.ui.line}…`));
    else if (cur.error) main.append(h('div', { class: 'error', 'data-testid': 'tokens-error' }, cur.error));
    if (cur.sample) main.append(this.sampleView(cur.sample, cur.target, cur.line));
    replaceChildren(this.body, main, this.misrankedView());
  }

  private renderHeader(sample: LineRewards | undefined): void {
    const init = this.init!;
    const d = this.domain(sample);
    const sourceOptions: [string, string][] = [];
    if (init.dump.length > 0 || !init.dataFile) sourceOptions.push(['dump', `Evaluation samples (${init.dump.length})`]);
    if (init.dataFile) sourceOptions.push(['file', `Lines of ${init.dataFile.split(/[\\/]/).pop()}`]);
    const position =
      this.ui.source === 'dump'
        ? `Sample ${init.dump.length ? this.ui.index + 1 : 0} / ${init.dump.length}`
        : `Line ${this.ui.line}`;
    replaceChildren(
      this.header,
      h('h1', { 'data-testid': 'tokens-title' }, `Token rewards: ${init.run.experiment} / ${init.run.variant}${init.run.seed === null ? '' : ` / seed ${init.run.seed}`}`),
      h(
        'div',
        { class: 'toolbar' },
        select('Source', 'source', sourceOptions, this.ui.source, (v) => this.update({ source: v as Source })),
        button('◀ Previous', 'prev-sample', () => this.step(-1), { secondary: true, disabled: this.ui.source === 'dump' ? this.ui.index <= 0 : this.ui.line <= 1 }),
        h('span', { 'data-testid': 'sample-position' }, position),
        button('Next ▶', 'next-sample', () => this.step(1), { secondary: true, disabled: this.ui.source === 'dump' && this.ui.index >= init.dump.length - 1 }),
        this.ui.source === 'file' ? this.lineInput() : null,
      ),
      h(
        'div',
        { class: 'toolbar' },
        checkbox('Weights w_t', 'toggle-weights', this.ui.weights, (v) => this.update({ weights: v })),
        checkbox('Values', 'toggle-values', this.ui.values, (v) => this.update({ values: v })),
        this.ui.source === 'dump' ? checkbox('Same scale for all samples', 'global-scale', this.ui.globalScale, (v) => this.update({ globalScale: v })) : null,
        h('span', { class: 'spacer' }),
        this.legend(d),
      ),
    );
  }

  private lineInput(): HTMLElement {
    const input = h('vscode-textfield', { 'data-testid': 'line-input', type: 'number', min: 1, value: this.ui.line, 'aria-label': 'line' }) as HTMLElement & { value: string };
    input.addEventListener('change', () => {
      const line = Math.floor(Number(input.value));
      if (line >= 1) this.update({ line });
    });
    return h('label', {}, 'Go to line', input);
  }

  private step(delta: number): void {
    if (this.ui.source === 'dump') this.update({ index: Math.max(0, Math.min(this.init!.dump.length - 1, this.ui.index + delta)) });
    else this.update({ line: Math.max(1, this.ui.line + delta) });
  }

  private domain(sample: LineRewards | undefined): number {
    const samples = this.ui.globalScale && this.ui.source === 'dump' ? this.init!.dump : sample ? [sample] : [];
    return colourDomain(samples);
  }

  private legend(domain: number): HTMLElement {
    const neg = divergingOverlay(-domain, domain, this.scheme, MAX_ALPHA);
    const pos = divergingOverlay(domain, domain, this.scheme, MAX_ALPHA);
    const bar = h('span', { class: 'bar', 'data-testid': 'legend-bar' });
    bar.style.backgroundImage = `linear-gradient(to right, ${toRgba(neg.color, neg.alpha)}, transparent, ${toRgba(pos.color, pos.alpha)})`;
    return h('span', { class: 'legend', 'data-testid': 'legend', 'data-domain': domain, 'data-scheme': this.scheme, title: 'reward mean; band under a token: its std' },
      `−${formatNumber(domain)}`, bar, `+${formatNumber(domain)}`);
  }

  private sampleView(sample: LineRewards, target: LineTarget, line: number): HTMLElement {
    const domain = this.domain(sample);
    const all = this.ui.globalScale && this.ui.source === 'dump' ? this.init!.dump : [sample];
    const maxStd = maxOf(all, (t) => t.std);
    const maxW = maxOf(all, (t) => t.weight);
    const open = (): void => post({ type: 'openLine', target, line });
    const verdict =
      sample.correct === undefined ? null
      : sample.correct ? h('span', { class: 'badge-ok', 'data-testid': 'ranking' }, '✓ ranked correctly')
      : h('span', { class: 'badge-bad', 'data-testid': 'ranking' }, '✗ misranked');
    return h(
      'div',
      { 'data-testid': 'sample', 'data-line': sample.line, 'data-kind': sample.kind, 'data-correct': sample.correct === undefined ? undefined : String(sample.correct) },
      h('div', { class: 'sample-head' }, h('button', { class: 'link', 'data-testid': 'open-line', title: 'Open this line in the editor', onclick: open }, `Line ${sample.line} ↗`), verdict),
      h('div', { class: 'sides' }, ...sidesOf(sample).map(({ side, seq }) => {
        const tokens = h('div', { class: `tokens${needsGaps([...seq.prompt_tokens, ...seq.tokens.map((t) => t.token)]) ? ' gapped' : ''}` });
        for (const p of seq.prompt_tokens) tokens.append(h('span', { class: 'token prompt', title: 'prompt' }, tokenLabel(p)));
        if (seq.prompt_tokens.length) tokens.append(h('span', { class: 'prompt-end', title: 'end of the prompt' }));
        seq.tokens.forEach((t, i) => tokens.append(this.tokenView(t, i, domain, maxStd, maxW, open)));
        return h(
          'div',
          { class: 'side', 'data-testid': 'sequence', 'data-side': side, 'data-reward': seq.reward },
          h('h2', {}, SIDE_TITLES[side], h('span', { class: 'reward', 'data-testid': 'sequence-reward' }, rewardText(seq))),
          tokens,
        );
      })),
    );
  }

  private tokenView(t: TokenReward, index: number, domain: number, maxStd: number, maxW: number, open: () => void): HTMLElement {
    const { color, alpha } = divergingOverlay(t.mean, domain, this.scheme, MAX_ALPHA);
    const el = h('span', { class: 'token', 'data-testid': 'token', 'data-index': index, 'data-token': t.token, 'data-mean': t.mean, 'data-std': t.std, 'data-weight': t.weight, title: tokenTooltip(t), onclick: open }, tokenLabel(t.token));
    el.style.backgroundColor = toRgba(color, alpha);
    el.style.setProperty('--std-band', `${stdBand(t.std, maxStd)}px`);
    if (this.ui.weights) {
      const bar = h('span', { class: 'w-bar', 'data-testid': 'weight-bar' });
      bar.style.width = `${Math.round(100 * (maxW > 0 ? t.weight / maxW : 0))}%`;
      el.append(bar);
    }
    if (this.ui.values) el.append(h('span', { class: 't-value' }, t.mean.toFixed(2)));
    return el;
  }

  private misrankedView(): HTMLElement {
    const init = this.init!;
    const pairs = misrankedPairs(init.dump);
    const total = init.dump.filter((s) => s.correct !== undefined).length;
    return h(
      'aside',
      { class: 'misranked', 'data-testid': 'misranked' },
      h('h2', {}, `Misranked pairs (${pairs.length} / ${total})`),
      pairs.length === 0
        ? h('div', { class: 'muted' }, total ? 'None among the evaluation samples.' : 'No preference pairs in the dump.')
        : h('ol', { 'data-testid': 'misranked-list' }, ...pairs.map((p) =>
            h('li', { class: this.ui.source === 'dump' && this.ui.index === p.index ? 'current' : undefined },
              h('button', { class: 'link', 'data-testid': 'misranked-item', 'data-index': p.index, 'data-line': p.line, onclick: () => this.update({ source: 'dump', index: p.index }) },
                `line ${p.line}: ${formatNumber(p.chosen)} < ${formatNumber(p.rejected)}`),
            ),
          )),
    );
  }
}
