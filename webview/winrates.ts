/**
 * Win rates page: one stacked win / tie / lose bar per comparison of a grid's win-rate stage
 * (mean over seeds, with the pooled 95% intervals and the sign test), an opponent filter, the
 * judged prompts of a clicked comparison on one seed, and both answers of a clicked prompt side
 * by side, each token coloured by the per-token reward of the grid's AVA reward model (as in
 * Token rewards) or each word by its gold reward where the task has one. The table exports as
 * Markdown, LaTeX and CSV.
 */
import type { HostToWebview, VerdictRow, WinratesInit, WinratesReport } from '../src/protocol/webview.js';
import type { SequenceRewards } from '../src/protocol/events.js';
import { divergingOverlay, symmetricDomain, toRgba } from '../src/ui-common/colorScale.js';
import { needsGaps, stdBand, tokenLabel, tokenTooltip } from './tokenModel.js';
import { toCsv, toLatexTable, toMarkdownTable, type TextTable } from '../src/ui-common/exportFormats.js';
import { button, h, replaceChildren, select } from './dom.js';
import { exporter, type Page } from './page.js';
import { loadState, post, saveState } from './vscodeApi.js';

type ComparisonRow = WinratesReport['comparisons'][number];

interface WinratesUi {
  /** Opponent shown ('' = every comparison). */
  opponent: string;
  /** Selected comparison text ('' = none). */
  comparison: string;
  seed: number | null;
  /** Prompt index opened side by side (-1 = none). */
  prompt: number;
  /** What colours the answers' tokens: the AVA model's per-token rewards, or the gold per word. */
  colour: ColourBy;
}

type ColourBy = 'model' | 'gold';

const DEFAULT_UI: WinratesUi = { opponent: '', comparison: '', seed: null, prompt: -1, colour: 'model' };
const SIGNIFICANT = 0.05;
const pct = (x: number) => (100 * x).toFixed(1);

export class WinratesPage implements Page {
  private readonly ui: WinratesUi;
  private init: WinratesInit | undefined;
  private verdicts: { comparison: string; seed: number; rows: VerdictRow[]; error?: string } | undefined;
  private readonly header = h('div', { class: 'panel-header', 'data-testid': 'winrates-header' });
  private readonly bars = h('section', { 'data-testid': 'winrates-table' });
  private readonly prompts = h('section', { 'data-testid': 'judged-prompts' });
  private readonly sideBySide = h('section', { 'data-testid': 'side-by-side' });

  constructor(private readonly root: HTMLElement) {
    this.ui = { ...DEFAULT_UI, ...loadState<WinratesUi>().ui };
  }

  receive(m: HostToWebview): void {
    if (m.type === 'winrates/init') return this.start(m);
    if (!this.init || m.type !== 'winrates/verdicts') return;
    if (m.comparison !== this.ui.comparison || m.seed !== this.ui.seed) return;
    this.verdicts = m;
    this.renderPrompts();
    this.renderSideBySide();
  }

  retheme(): void {
    this.renderSideBySide();
  }

  private start(init: WinratesInit): void {
    this.init = init;
    this.verdicts = undefined;
    const report = init.report;
    if (report && !report.comparisons.some((c) => c.text === this.ui.comparison)) Object.assign(this.ui, { comparison: '', prompt: -1 });
    if (report && (this.ui.seed === null || !report.seeds.includes(this.ui.seed))) this.ui.seed = report.seeds[0] ?? null;
    this.persist();
    replaceChildren(this.root, this.header, this.bars, this.prompts, this.sideBySide);
    this.root.removeAttribute('aria-busy');
    this.render();
    this.requestVerdicts();
  }

  private persist(): void {
    saveState<WinratesUi>({ args: this.init?.args, ui: this.ui });
  }

  private render(): void {
    this.renderHeader();
    this.renderBars();
    this.renderPrompts();
    this.renderSideBySide();
  }

  private renderHeader(): void {
    const r = this.init?.report;
    if (!r) {
      replaceChildren(
        this.header,
        h('h2', {}, 'Win rates'),
        h('p', { class: this.init?.error ? 'error' : 'muted', 'data-testid': 'winrates-empty' }, this.init?.error ?? 'This grid has no win rates yet: add a `winrates:` section to its experiment and run `ava-lab winrates <grid>` (or run the grid again).'),
      );
      return;
    }
    const s = r.settings;
    const opponents = [...new Set(r.comparisons.map((c) => c.b))];
    replaceChildren(
      this.header,
      h('h2', {}, `Win rates: ${r.experiment}`),
      h(
        'p',
        { class: 'muted' },
        `Judge ${r.judge}; ${r.prompts} prompts × ${r.seeds.length} seed${r.seeds.length > 1 ? 's' : ''}; generator ${s.generator ?? '—'}, N = ${s.bon_n}, temperature ${s.temperature}, policy ${s.generation_policy}. ` +
          `Bars: mean over seeds; the interval is the Wilson 95% interval over all judged prompts; ★ marks p < ${SIGNIFICANT} (sign test of wins against losses).`,
      ),
      h(
        'div',
        { class: 'toolbar' },
        select('Opponent', 'opponent', [['', 'every opponent'], ...opponents.map((o): [string, string] => [o, o])], this.ui.opponent, (v) => {
          this.ui.opponent = v;
          this.persist();
          this.renderBars();
        }),
        select('Seed', 'seed', r.seeds.map((x): [string, string] => [String(x), `seed ${x}`]), String(this.ui.seed ?? ''), (v) => {
          this.ui.seed = Number(v);
          this.ui.prompt = -1;
          this.persist();
          this.requestVerdicts();
        }),
        button('Markdown', 'export-md', () => exporter('md', 'winrates.md', toMarkdownTable(this.textTable()))),
        button('LaTeX', 'export-tex', () => exporter('tex', 'winrates.tex', toLatexTable(this.textTable())), { secondary: true }),
        button('CSV', 'export-csv', () => exporter('csv', 'winrates.csv', toCsv(this.textTable().header, this.textTable().rows)), { secondary: true }),
      ),
    );
  }

  private shown(): ComparisonRow[] {
    const all = this.init?.report?.comparisons ?? [];
    return this.ui.opponent ? all.filter((c) => c.b === this.ui.opponent) : all;
  }

  private textTable(): TextTable {
    const r = this.init?.report;
    const k = r?.seeds.length ?? 1;
    const pm = (m: number, s: number) => (k > 1 ? `${pct(m)} ± ${pct(s)}` : pct(m));
    return {
      header: ['comparison', 'win %', 'tie %', 'lose %', 'win 95% (pooled)', 'p (sign test)'],
      rows: this.shown().map((c) => [`${c.a} vs ${c.b}`, pm(c.mean.win, c.std.win), pm(c.mean.tie, c.std.tie), pm(c.mean.lose, c.std.lose), `${pct(c.pooled.win.lo)}–${pct(c.pooled.win.hi)}`, c.pooled.p.toPrecision(3)]),
      caption: r ? `Win rates of ${r.experiment}, judge ${r.judge}, ${r.prompts} prompts × ${k} seeds` : undefined,
    };
  }

  private renderBars(): void {
    if (!this.init?.report) return replaceChildren(this.bars);
    const k = this.init.report.seeds.length;
    const rows = this.shown().map((c) => {
      const star = c.pooled.p < SIGNIFICANT ? ' ★' : '';
      const segment = (cls: string, share: number, label: string) => {
        const el = h('div', { class: `wtl-${cls}`, title: `${label} ${pct(share)} %` }, share >= 0.08 ? `${pct(share)}` : '');
        el.style.width = `${(100 * share).toFixed(2)}%`; // CSSOM: the CSP allows no inline style attributes
        return el;
      };
      const total = c.mean.win + c.mean.tie + c.mean.lose || 1;
      const ci = (p: { lo: number; hi: number }) => `${pct(p.lo)}–${pct(p.hi)}`;
      return h(
        'div',
        {
          class: `wtl-row${c.text === this.ui.comparison ? ' selected' : ''}`,
          role: 'button',
          tabindex: 0,
          'data-testid': 'winrate-row',
          'data-comparison': c.text,
          onclick: () => this.choose(c.text),
          onkeydown: (e: Event) => {
            if ((e as KeyboardEvent).key === 'Enter') this.choose(c.text);
          },
        },
        h('div', { class: 'wtl-label' }, h('strong', {}, c.a), ' vs ', c.b, star),
        h('div', { class: 'wtl-bar', 'aria-label': `win ${pct(c.mean.win)}, tie ${pct(c.mean.tie)}, lose ${pct(c.mean.lose)} percent` }, segment('win', c.mean.win / total, 'win'), segment('tie', c.mean.tie / total, 'tie'), segment('lose', c.mean.lose / total, 'lose')),
        h(
          'div',
          { class: 'wtl-numbers muted' },
          h('span', { 'data-testid': 'winrate-win' }, `win ${pct(c.mean.win)}${k > 1 ? ` ± ${pct(c.std.win)}` : ''}`),
          ` (${ci(c.pooled.win)}) · tie ${pct(c.mean.tie)} · lose ${pct(c.mean.lose)} (${ci(c.pooled.lose)}) · p ${c.pooled.p.toPrecision(3)}`,
        ),
      );
    });
    const gold = this.init.report.systems.filter((s) => s.gold_mean !== null);
    replaceChildren(
      this.bars,
      h('div', { class: 'wtl-legend muted' }, h('span', { class: 'swatch wtl-win' }), 'win ', h('span', { class: 'swatch wtl-tie' }), 'tie ', h('span', { class: 'swatch wtl-lose' }), 'lose'),
      ...rows,
      gold.length
        ? h('p', { class: 'muted', 'data-testid': 'system-gold' }, 'Mean gold of each system’s answers: ', gold.map((s) => `${s.name} ${s.gold_mean!.toFixed(3)}${k > 1 ? ` ± ${s.gold_std!.toFixed(3)}` : ''}`).join(' · '))
        : null,
    );
  }

  private choose(comparison: string): void {
    this.ui.comparison = comparison;
    this.ui.prompt = -1;
    this.persist();
    this.renderBars();
    this.requestVerdicts();
  }

  private requestVerdicts(): void {
    this.verdicts = undefined;
    this.renderPrompts();
    this.renderSideBySide();
    if (this.ui.comparison && this.ui.seed !== null) post({ type: 'requestVerdicts', comparison: this.ui.comparison, seed: this.ui.seed });
  }

  private renderPrompts(): void {
    if (!this.ui.comparison) return replaceChildren(this.prompts, h('p', { class: 'muted' }, 'Click a comparison to see its judged prompts.'));
    if (!this.verdicts) return replaceChildren(this.prompts, h('p', { class: 'muted' }, 'Loading the judged prompts…'));
    if (this.verdicts.error) return replaceChildren(this.prompts, h('p', { class: 'error' }, this.verdicts.error));
    const rows = this.verdicts.rows.map((v) =>
      h(
        'tr',
        { class: v.prompt_index === this.ui.prompt ? 'selected' : '', 'data-testid': 'judged-prompt', 'data-verdict': v.verdict, tabindex: 0, onclick: () => this.openPrompt(v.prompt_index) },
        h('td', {}, String(v.prompt_index + 1)),
        h('td', {}, v.prompt),
        h('td', { class: `verdict-${v.verdict}` }, v.verdict),
        h('td', {}, v.scores ? `${v.scores[0].toFixed(3)} vs ${v.scores[1].toFixed(3)}` : (v.orders ?? []).join(' / ')),
      ),
    );
    replaceChildren(
      this.prompts,
      h('h3', {}, `${this.ui.comparison} · seed ${this.ui.seed} · ${this.verdicts.rows.length} prompts`),
      h('div', { class: 'prompt-list' }, h('table', { class: 'results' }, h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'prompt'), h('th', {}, 'verdict'), h('th', {}, 'scores (A vs B)'))), h('tbody', {}, ...rows))),
    );
  }

  private openPrompt(index: number): void {
    this.ui.prompt = index;
    this.persist();
    this.renderPrompts();
    this.renderSideBySide();
    this.sideBySide.scrollIntoView({ block: 'nearest' });
  }

  private renderSideBySide(): void {
    const v = this.verdicts?.rows.find((r) => r.prompt_index === this.ui.prompt);
    const c = this.init?.report?.comparisons.find((x) => x.text === this.ui.comparison);
    if (!v || !c) return replaceChildren(this.sideBySide);
    const hasModel = v.a_rewards !== undefined && v.b_rewards !== undefined;
    const hasGold = v.a_gold_words !== undefined || v.b_gold_words !== undefined;
    const colour: ColourBy = hasModel && (this.ui.colour === 'model' || !hasGold) ? 'model' : 'gold';
    const tokensOf = (rewards: SequenceRewards | undefined, text: string, gold: number[] | undefined, domain: number): HTMLElement[] =>
      colour === 'model' && rewards ? modelTokens(rewards, domain, this.maxStd(v)) : goldWords(text, gold, domain);
    const domain =
      colour === 'model'
        ? symmetricDomain([...(v.a_rewards?.tokens ?? []), ...(v.b_rewards?.tokens ?? [])].map((t) => t.mean)) || 1
        : symmetricDomain([...(v.a_gold_words ?? []), ...(v.b_gold_words ?? [])]) || 1;
    const answer = (side: 'a' | 'b', system: string, text: string, rewards: SequenceRewards | undefined, gold: number[] | undefined, score: number | undefined) => {
      const tokens = tokensOf(rewards, text, gold, domain);
      const gapped = colour === 'gold' || (rewards !== undefined && needsGaps(rewards.tokens.map((t) => t.token)));
      return h(
        'div',
        { class: 'answer', 'data-testid': `answer-${side}`, 'data-colour': colour },
        h('h4', {}, `${side.toUpperCase()}: ${system}`, score === undefined ? '' : ` (score ${score.toFixed(3)})`, colour === 'model' && rewards ? h('span', { class: 'muted' }, ` · R = ${rewards.reward.toFixed(3)}`) : ''),
        h('div', { class: `tokens${gapped ? ' gapped' : ''}` }, ...(tokens.length ? tokens : [h('span', { class: 'muted' }, '(empty answer)')])),
      );
    };
    const picker =
      hasModel && hasGold
        ? h(
            'div',
            { class: 'toolbar' },
            select('Colour by', 'colour-by', [['model', `per-token reward of ${v.rewards_by}`], ['gold', 'gold reward per word']], colour, (x) => {
              this.ui.colour = x === 'gold' ? 'gold' : 'model';
              this.persist();
              this.renderSideBySide();
            }),
          )
        : null;
    const legend =
      colour === 'model'
        ? `Each token is coloured by the per-token reward μ̃ of the AVA reward model ${v.rewards_by} (blue above 0, orange below; the band under a token is its σ̃), read as in Token rewards; hover a token for μ̃, σ̃, w and its gold.`
        : hasGold
          ? 'Each word is coloured by its gold reward (the task’s exact per-word reward: blue above 0, orange below, as in Token rewards).'
          : null;
    replaceChildren(
      this.sideBySide,
      h('h3', {}, `Prompt ${v.prompt_index + 1}: `, h('span', { class: 'prompt-text' }, v.prompt), ` → ${v.verdict} for ${c.a}`),
      picker,
      h('div', { class: 'answers' }, answer('a', c.a, v.a, v.a_rewards, v.a_gold_words, v.scores?.[0]), answer('b', c.b, v.b, v.b_rewards, v.b_gold_words, v.scores?.[1])),
      legend ? h('p', { class: 'muted' }, legend) : null,
    );
  }

  private maxStd(v: VerdictRow): number {
    return Math.max(0, ...[...(v.a_rewards?.tokens ?? []), ...(v.b_rewards?.tokens ?? [])].map((t) => t.std).filter(Number.isFinite));
  }
}

/** The answer's tokens coloured by the reward model's μ̃, with the σ̃ band (as the Token rewards panel draws them). */
function modelTokens(rewards: SequenceRewards, domain: number, maxStd: number): HTMLElement[] {
  return rewards.tokens.map((t, i) => {
    const el = h('span', { class: 'token', 'data-testid': 'token', 'data-index': i, 'data-token': t.token, 'data-mean': t.mean, 'data-std': t.std, title: tokenTooltip(t) }, tokenLabel(t.token));
    const { color, alpha } = divergingOverlay(t.mean, domain, undefined, 0.8);
    el.style.backgroundColor = toRgba(color, alpha);
    el.style.setProperty('--std-band', `${stdBand(t.std, maxStd)}px`);
    return el;
  });
}

/** The answer's words, coloured by their gold reward where it lines up with them. */
function goldWords(text: string, gold: number[] | undefined, domain: number): HTMLElement[] {
  const words = text.split(/\s+/).filter((w) => w);
  const aligned = gold !== undefined && gold.length === words.length;
  return words.map((w, i) => {
    const el = h('span', { class: 'token', title: aligned ? `${w}: gold ${gold[i]}` : w }, w);
    if (aligned) {
      const { color, alpha } = divergingOverlay(gold[i], domain, undefined, 0.8);
      el.style.backgroundColor = toRgba(color, alpha);
    }
    return el;
  });
}
