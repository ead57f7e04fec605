/**
 * The grid report (core/eval/report.ts) and its statistics (core/eval/stats.ts): mean ± std over
 * seeds, the worst seed, the paired comparison with the baseline on the same data, alarms, and
 * the per-term gradient table; the paired t-test against textbook quantiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recipeDefaults, type ObjectiveKind, type Recipe, type RunConfig } from '../src/core/experiment/config.js';
import { gridReportMarkdown, meanTermGrads, termGradsMarkdown, worthReporting, type ReportCell } from '../src/core/eval/report.js';
import { logGamma, pairedComparison, regularizedBeta, studentTwoSidedP } from '../src/core/eval/stats.js';

test('Student t two-sided p at the textbook 95 % quantiles; Γ and I_x at known values', () => {
  for (const [t, df] of [
    [12.706205, 1],
    [2.776445, 4],
    [2.228139, 10],
    [1.959964, 1e6],
  ]) {
    assert.ok(Math.abs(studentTwoSidedP(t, df) - 0.05) < 1e-5, `t ${t}, df ${df}: ${studentTwoSidedP(t, df)}`);
  }
  assert.equal(studentTwoSidedP(0, 4), 1);
  assert.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-12);
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-12);
  assert.ok(Math.abs(regularizedBeta(0.3, 1, 1) - 0.3) < 1e-12, 'I_x(1,1) = x');
  assert.ok(Math.abs(regularizedBeta(0.3, 2, 3) - 0.3483) < 1e-12, 'I_0.3(2,3) = 0.3483');
});

test('pairedComparison: differences, their std, t and p (hand-computed)', () => {
  // d = [0.5, -0.5, 1, 1, 0.9]: mean 0.58, sample sd 0.637966, t = 0.58 / (0.637966 / √5) = 2.03290.
  const c = pairedComparison([1, 2, 3, 4, 5], [0.5, 2.5, 2, 3, 4.1]);
  assert.ok(Math.abs(c.meanDiff - 0.58) < 1e-12);
  assert.ok(Math.abs(c.sdDiff - 0.6379655) < 1e-6);
  assert.ok(Math.abs(c.t - 2.032899) < 1e-5);
  assert.ok(c.p > 0.1 && c.p < 0.12, String(c.p));
  assert.ok(Number.isNaN(pairedComparison([1], [0]).p));
  assert.throws(() => pairedComparison([1, 2], [1]), /2 vs 1/);
});

function cell(variant: string, seed: number, kind: ObjectiveKind, recipe: Recipe, acc: number, task = 'harmless', extra: Partial<ReportCell> = {}): ReportCell {
  const d = recipeDefaults(recipe);
  const run: RunConfig = { name: 'g', variant, seed, ...d, data: { ...d.data, task }, objective: { ...d.objective, kind } };
  return { variant, seed, run, summary: { step: 1, reward_acc: { value: acc, n: 400, lo: 0, hi: 1 }, best_possible_acc: 0.9 }, last: { reward_margin: 0.5 }, termGrads: {}, alarms: [], ...extra };
}

test('gridReportMarkdown: one row per variant, paired with the baseline on the same task only', () => {
  const alarm = { kind: 'reward_flat' as const, step: 10, title: '', diagnosis: '', remedy: '', values: {} };
  const cells = [
    cell('h robust', 0, 'ava-p', 'robust', 0.8),
    cell('h robust', 1, 'ava-p', 'robust', 0.84),
    cell('h paper', 0, 'ava-p', 'paper', 0.5, 'harmless', { alarms: [alarm] }),
    cell('h paper', 1, 'ava-p', 'paper', 0.7),
    cell('h bt', 0, 'bt', 'robust', 0.81),
    cell('h bt', 1, 'bt', 'robust', 0.82),
    cell('s robust', 0, 'ava-p', 'robust', 0.9, 'summary'),
    cell('s robust', 1, 'ava-p', 'robust', 0.8, 'summary'),
  ];
  const lines = gridReportMarkdown(cells, { baseline: 'bt' }).trim().split('\n');
  assert.equal(lines.length, 2 + 4);
  const row = (name: string) => lines.find((l) => l.startsWith(`| ${name} |`))!.split(' | ');
  const robust = row('h robust');
  assert.equal(robust[5], '82.00 ± 2.83');
  assert.equal(robust[6], '80.00', 'worst seed');
  assert.equal(robust[7], '90.00');
  // d = [−1, +2] points: mean +0.50, sd 2.12; t = 0.333, df 1: p = 0.795.
  assert.match(robust[8], /^\+0\.50 ± 2\.12 \(p 0\.795, n 2\)$/);
  assert.equal(row('h bt')[8], 'baseline');
  assert.equal(row('h paper').at(-1), '1 of 2 |');
  assert.equal(row('s robust')[8], '—', 'no Bradley-Terry run on the summary data');
  assert.ok(worthReporting(cells));
  assert.ok(!worthReporting([cells[0], cells[2]]));
});

test('gridReportMarkdown: a grid without the baseline (policies only) has no paired column', () => {
  const cells = [cell('sft', 0, 'sft', 'robust', 0.58), cell('dpo', 0, 'dpo', 'robust', 0.72)];
  const [head, , sft] = gridReportMarkdown(cells, { baseline: 'bt' }).trim().split('\n');
  assert.ok(!head.includes('Δ acc'), head);
  assert.equal(head.split(' | ').length, 13);
  assert.equal(sft.split(' | ')[8], '—', 'the token r column follows best possible %');
  assert.ok(gridReportMarkdown([...cells, cell('bt', 0, 'bt', 'robust', 0.8)], { baseline: 'bt' }).includes('Δ acc vs bt (paired)'));
});

test('meanTermGrads and termGradsMarkdown: per-term norms averaged over steps, then seeds', () => {
  const records: { phase: string; values: Record<string, number> }[] = [
    { phase: 'train', values: { 'grad_reward.cer': 1, 'grad_weights.cer': 4, loss: 9 } },
    { phase: 'train', values: { 'grad_reward.cer': 3, 'grad_weights.cer': 2 } },
    { phase: 'pretrain', values: { 'grad_reward.cer': 100 } },
  ];
  assert.deepEqual(meanTermGrads(records), { 'grad_reward.cer': 2, 'grad_weights.cer': 3 });
  const cells = [cell('a', 0, 'ava-p', 'paper', 0.6, 'harmless', { termGrads: { 'grad_reward.cer': 2, 'grad_weights.cer': 3 } }), cell('a', 1, 'ava-p', 'paper', 0.6, 'harmless', { termGrads: { 'grad_reward.cer': 4, 'grad_weights.cer': 5 } })];
  const md = termGradsMarkdown(cells).trim().split('\n');
  assert.equal(md[0], '| variant | recipe | cer → reward | cer → weights |');
  assert.equal(md[2], '| a | paper | 3.00 | 4.00 |');
  assert.equal(termGradsMarkdown([cell('b', 0, 'bt', 'paper', 0.6)]), '');
});

test('gridReportMarkdown: McNemar on per-pair correctness, discordant pairs summed over seeds', () => {
  // seed 0: A right where B wrong on 3 pairs, B right where A wrong on 1; seed 1: 2 vs 0 ⇒ 5:1, p = 2·(1 + 6)/64
  const a0 = [true, true, true, false, true, false];
  const b0 = [false, false, false, true, true, false];
  const a1 = [true, true, false, false];
  const b1 = [false, false, false, false];
  const cells = [
    cell('robust', 0, 'ava-p', 'robust', 0.8, 'harmless', { pairCorrect: a0 }),
    cell('robust', 1, 'ava-p', 'robust', 0.84, 'harmless', { pairCorrect: a1 }),
    cell('bt', 0, 'bt', 'robust', 0.81, 'harmless', { pairCorrect: b0 }),
    cell('bt', 1, 'bt', 'robust', 0.82, 'harmless', { pairCorrect: b1 }),
  ];
  const lines = gridReportMarkdown(cells, { baseline: 'bt' }).trim().split('\n');
  const robust = lines.find((l) => l.startsWith('| robust |'))!.split(' | ');
  assert.match(robust[8], /^\+0\.50 ± 2\.12 \(p 0\.795, n 2; McNemar p 0\.219, 5:1 pairs\)$/);
  // Without per-pair results (older runs) the column is the t-test alone.
  const old = cells.map((c) => ({ ...c, pairCorrect: undefined }));
  assert.match(gridReportMarkdown(old, { baseline: 'bt' }).split('\n').find((l) => l.startsWith('| robust |'))!, /\(p 0\.795, n 2\) \|/);
});
