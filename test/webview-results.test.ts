import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareRun } from '../src/protocol/webview.js';
import { latexEscape, seriesToCsv, toCsv, toLatexTable, toMarkdownTable } from '../src/ui-common/exportFormats.js';
import { formatDelta, formatDuration, formatMeanStd, formatNumber, formatValue } from '../src/ui-common/format.js';
import { baselineDeltas, baselineMcNemar, buildResultTable, resultDescriptors, resultTextTable } from '../src/ui-common/results.js';
import { bestIndices, groupBy, meanStd } from '../src/ui-common/stats.js';

function run(variant: string, seed: number, acc: number, loss: number, extra: Record<string, unknown> = {}): CompareRun {
  return {
    run: { runDir: `/g/${variant}/seed-${seed}`, experiment: 'exp', variant, seed, status: 'finished', interrupted: false, step: 100, totalSteps: 100, elapsed: 12, alarms: [] },
    final: { step: 100, reward_acc: { value: acc, n: 50, lo: 0, hi: 1 }, ...extra },
    evals: [],
    records: [{ step: 100, phase: 'train', time: 12, values: { loss } }],
    config: null,
  };
}

test('mean ± sample std; one value has no std; non-finite values are ignored', () => {
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: Math.SQRT2, n: 2 });
  assert.deepEqual(meanStd([4, Number.NaN]), { mean: 4, std: undefined, n: 1 });
  assert.equal(meanStd([]), undefined);
});

test('best per column honours the direction, shares ties, needs two values', () => {
  assert.deepEqual(bestIndices([0.5, 0.7, undefined, 0.7], 'higher'), [1, 3]);
  assert.deepEqual(bestIndices([0.5, 0.7], 'lower'), [0]);
  assert.deepEqual(bestIndices([0.5, 0.7], null), []);
  assert.deepEqual(bestIndices([0.5, undefined], 'higher'), []);
});

test('groupBy keeps first-seen order', () => {
  assert.deepEqual([...groupBy(['b1', 'a1', 'b2'], (s) => s[0]).keys()], ['b', 'a']);
});

test('result table: variants aggregated over seeds, best marked, deltas to a baseline', () => {
  const runs = [run('base', 0, 0.6, 1.0), run('base', 1, 0.8, 0.8), run('no-kl', 0, 0.9, 1.2), run('no-kl', 1, 0.9, 1.4)];
  const cols = resultDescriptors(runs);
  assert.deepEqual(cols.map((c) => c.id), ['reward_acc', 'train_loss', 'steps', 'time']);
  const t = buildResultTable(runs, cols, 'variant');
  assert.deepEqual(t.rows.map((r) => [r.label, r.runs.length]), [['base', 2], ['no-kl', 2]]);
  const acc = t.rows.map((r) => r.cells[0]);
  assert.ok(Math.abs(acc[0]!.mean - 0.7) < 1e-12);
  assert.ok(Math.abs(acc[0]!.std! - Math.sqrt(0.02)) < 1e-12);
  assert.deepEqual(t.best.map((r) => r.slice(0, 2)), [[false, false], [true, false]], 'losses of different objectives are not ranked');
  const d = baselineDeltas(t, 0);
  assert.ok(Math.abs(d[1][0]! - 0.2) < 1e-12);
  assert.equal(d[0][0], 0);
  const perRun = buildResultTable(runs, cols, 'run');
  assert.deepEqual(perRun.rows.map((r) => r.label), ['base / seed 0', 'base / seed 1', 'no-kl / seed 0', 'no-kl / seed 1']);
});

test('unknown numeric eval.json entries become extra columns (open to new result kinds)', () => {
  const runs = [run('a', 0, 0.5, 1, { win_rate: { value: 0.6, n: 10, lo: 0.3, hi: 0.8 }, note: 'x', mean_len: 12 }), run('b', 0, 0.6, 1, { win_rate: 0.4 })];
  const extra = resultDescriptors(runs).filter((c) => c.id.startsWith('eval.'));
  assert.deepEqual(extra.map((c) => [c.id, c.label, c.better, c.kind]), [
    ['eval.mean_len', 'mean len', null, 'number'],
    ['eval.win_rate', 'win rate (%)', 'higher', 'percent'],
  ]);
  assert.deepEqual(runs.map(extra[1].value), [0.6, 0.4]);
});

test('result text table for export carries mean ± std, baseline deltas and bold best', () => {
  const runs = [run('base', 0, 0.6, 1.0), run('base', 1, 0.8, 0.8), run('no-kl', 0, 0.9, 1.2)];
  const cols = resultDescriptors(runs).slice(0, 2);
  const text = resultTextTable(buildResultTable(runs, cols, 'variant'), 0, 'Ablation');
  assert.deepEqual(text.header, ['Variant', 'n', 'Reward acc. (%)', 'Final loss']);
  assert.deepEqual(text.rows[0], ['base (baseline)', '2', '70.0 ± 14.1', '0.90 ± 0.14']);
  assert.deepEqual(text.rows[1], ['no-kl', '1', '90.0 (Δ +20.0)', '1.2 (Δ +0.3)']);
  assert.deepEqual(text.bold, [[false, false, false, false], [false, false, true, false]]);
});

test('CSV quoting and curve joining', () => {
  assert.equal(toCsv(['a', 'b'], [['x,y', 1], ['say "hi"', undefined]]), 'a,b\n"x,y",1\n"say ""hi""",\n');
  const csv = seriesToCsv([
    { name: 'loss', points: [{ x: 1, y: 2 }, { x: 3, y: 4 }] },
    { name: 'kl', points: [{ x: 2, y: 0.5 }] },
  ]);
  assert.equal(csv, 'step,loss,kl\n1,2,\n2,,0.5\n3,4,\n');
});

test('Markdown table: alignment row, escaped pipes, bold cells, caption', () => {
  const md = toMarkdownTable({ header: ['Variant', 'acc'], rows: [['a|b', '1']], bold: [[false, true]], caption: 'T' });
  assert.equal(md, 'T\n\n| Variant | acc |\n| :--- | ---: |\n| a\\|b | **1** |\n');
});

test('LaTeX table: booktabs, escaped specials, ± in math mode, bold cells', () => {
  assert.equal(latexEscape('a_b & 50% ± 1'), 'a\\_b \\& 50\\% $\\pm$ 1');
  const tex = toLatexTable({ header: ['Variant', 'acc'], rows: [['no_kl', '70.0 ± 1.0']], bold: [[false, true]], caption: 'Res' });
  assert.match(tex, /\\begin\{tabular\}\{lr\}/);
  assert.match(tex, /\\caption\{Res\}/);
  assert.match(tex, /no\\_kl & \\textbf\{70\.0 \$\\pm\$ 1\.0\} \\\\/);
  assert.match(tex, /\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
});

test('number formatting', () => {
  assert.equal(formatNumber(0.123456), '0.1235');
  assert.equal(formatNumber(12345.6), '12346');
  assert.equal(formatNumber(1e-6), '1.00e-6');
  assert.equal(formatValue(0.7123, 'percent'), '71.2');
  assert.equal(formatValue(undefined, 'number'), '');
  assert.equal(formatMeanStd({ mean: 0.5, std: 0.01, n: 2 }, 'percent'), '50.0 ± 1.0');
  assert.equal(formatMeanStd({ mean: 1.905, std: 0.007071, n: 2 }, 'number'), '1.9050 ± 0.0071');
  assert.equal(formatMeanStd({ mean: 123.4, std: 25, n: 2 }, 'number'), '123 ± 25');
  assert.equal(formatMeanStd({ mean: 2, std: 0, n: 2 }, 'number'), '2 ± 0');
  assert.equal(formatDelta(-0.034, 'number'), '−0.034');
  assert.equal(formatDelta(0, 'percent'), '±0.0');
  assert.equal(formatDuration(3725), '1h 02m');
  assert.equal(formatDuration(65), '1m 05s');
});

test('the token attribution r is a ranked column, from eval.json, never an extra column', () => {
  const ta = (pearson: number | null) => ({ token_attribution: { pearson, spearman: pearson, pearson_weighted: pearson, spearman_weighted: pearson, tokens: 100, sequences: 20 } });
  const runs = [run('state', 0, 0.7, 1, ta(0.1)), run('next_state', 0, 0.7, 1, ta(0.6)), run('bt', 0, 0.8, 1)];
  const cols = resultDescriptors(runs);
  assert.ok(!cols.some((c) => c.id.startsWith('eval.token')), cols.map((c) => c.id).join());
  const col = cols.findIndex((c) => c.id === 'token_r');
  assert.deepEqual(runs.map(cols[col].value), [0.1, 0.6, undefined]);
  const t = buildResultTable(runs, cols, 'variant');
  assert.deepEqual(t.best.map((r) => r[col]), [false, true, false]);
  assert.equal(cols[col].value(run('x', 0, 0.5, 1, ta(null))), undefined, 'an undefined correlation is no value');
});

test('the AVA diagnostics are unranked columns read from the last training record, shown only when logged', () => {
  const ava = (variant: string, seed: number, w: number) => {
    const r = run(variant, seed, 0.7, 1);
    r.records = [{ step: 50, phase: 'train', time: 6, values: { loss: 2, response_weight: 0.5, reward_margin: 0 } }, { step: 100, phase: 'train', time: 12, values: { loss: 1, response_weight: w, reward_margin: 0.2 } }];
    return r;
  };
  const runs = [ava('literal', 0, 0.3), ava('literal', 1, 0.001), run('bt', 0, 0.8, 1)];
  const cols = resultDescriptors(runs);
  const w = cols.findIndex((c) => c.id === 'response_weight');
  assert.deepEqual(runs.map(cols[w].value), [0.3, 0.001, undefined]);
  assert.equal(cols[w].better, null);
  assert.deepEqual(runs.map(cols.find((c) => c.id === 'reward_margin')!.value), [0.2, 0.2, undefined]);
  assert.ok(!resultDescriptors([run('bt', 0, 0.8, 1)]).some((c) => c.id === 'response_weight'), 'no column without the diagnostic');
});

test('McNemar against the baseline row: discordant pairs summed over matched seeds; absent without per-pair results', () => {
  const T = true;
  const F = false;
  const runs = [
    { ...run('bt', 0, 0.5, 1), pairCorrect: [T, F, F, F] },
    { ...run('bt', 1, 0.5, 1), pairCorrect: [T, T, F, F] },
    { ...run('ava', 0, 1, 1), pairCorrect: [T, T, T, T] }, // 3 only ava
    { ...run('ava', 1, 0.75, 1), pairCorrect: [F, T, T, T] }, // 2 only ava, 1 only bt
    run('old', 0, 0.6, 1),
  ];
  const table = buildResultTable(runs, resultDescriptors(runs), 'variant');
  const m = baselineMcNemar(table, 0);
  assert.equal(m[0], undefined, 'the baseline itself');
  assert.deepEqual({ ...m[1], p: undefined }, { p: undefined, onlyRow: 5, onlyBaseline: 1 });
  assert.ok(Math.abs(m[1]!.p - (2 * 7) / 64) < 1e-12); // 5:1 ⇒ 2·(1 + 6)/2⁶
  assert.equal(m[2], undefined, 'a run without eval_pairs.jsonl');
  const text = resultTextTable(table, 0);
  const acc = table.columns.findIndex((c) => c.id === 'reward_acc');
  assert.match(text.rows[1][2 + acc], /McNemar p 0\.219\)$/);
});
