/** The methods × tasks table (Table 1's shape): grouping, best marks, significance against the baseline, renderings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recipeDefaults, type ObjectiveKind, type RunConfig } from '../src/core/experiment/config.js';
import type { ReportCell } from '../src/core/eval/report.js';
import { baselineMatcher, methodName, methodTableCsv, methodTableLatex, methodTableMarkdown, methodTaskTable } from '../src/core/eval/methodTable.js';

function cell(variant: string, seed: number, kind: ObjectiveKind, task: string, acc: number, pairCorrect?: boolean[]): ReportCell {
  const d = recipeDefaults('robust');
  const run: RunConfig = { name: 'g', variant, seed, ...d, data: { ...d.data, task }, objective: { ...d.objective, kind } };
  return { variant, seed, run, summary: { step: 1, reward_acc: { value: acc, n: 10, lo: 0, hi: 1 }, best_possible_acc: 0.9 }, last: {}, termGrads: {}, alarms: [], ...(pairCorrect && { pairCorrect }) };
}

const T = true;
const F = false;

test('method names drop the task; one task is no table', () => {
  assert.equal(methodName('harmless w/o rwt', 'harmless'), 'w/o rwt');
  assert.equal(methodName('harmless', 'harmless'), 'harmless');
  assert.equal(methodName('bt', 'summary'), 'bt');
  assert.equal(methodTaskTable([cell('bt', 0, 'bt', 'harmless', 0.8), cell('ava', 0, 'ava-p', 'harmless', 0.8)], 'bt'), null);
});

test('methods × tasks: mean ± std, best per task, McNemar against the baseline, else the t-test', () => {
  // harmless: ava-p right on 9 pairs where bt is wrong, never the reverse (per seed), so McNemar p = 2·2⁻¹⁸ < 0.05
  const right = Array(10).fill(T);
  const bt = [T, ...Array(9).fill(F)];
  const cells = [
    cell('harmless ava-p', 0, 'ava-p', 'harmless', 1.0, right),
    cell('harmless ava-p', 1, 'ava-p', 'harmless', 1.0, right),
    cell('harmless bt', 0, 'bt', 'harmless', 0.1, bt),
    cell('harmless bt', 1, 'bt', 'harmless', 0.1, bt),
    // summary: no per-pair results ⇒ paired t over seeds (d = +0.1, +0.3 ⇒ not significant)
    cell('summary ava-p', 0, 'ava-p', 'summary', 0.7),
    cell('summary ava-p', 1, 'ava-p', 'summary', 0.9),
    cell('summary bt', 0, 'bt', 'summary', 0.6),
    cell('summary bt', 1, 'bt', 'summary', 0.6),
  ];
  const t = methodTaskTable(cells, 'bt')!;
  assert.deepEqual(t.tasks, ['harmless', 'summary']);
  assert.equal(t.baseline, 'bt');
  const ava = t.methods.find((m) => m.name === 'ava-p')!;
  assert.equal(ava.cells[0]!.vsBaseline!.test, 'mcnemar');
  assert.ok(Math.abs(ava.cells[0]!.vsBaseline!.p - 2 * 2 ** -18) < 1e-12);
  assert.equal(ava.cells[1]!.vsBaseline!.test, 't');
  assert.ok(ava.cells[1]!.vsBaseline!.p > 0.05);
  assert.ok(Math.abs(ava.cells[1]!.mean - 0.8) < 1e-12 && ava.cells[1]!.best);
  const md = methodTableMarkdown(t).split('\n');
  assert.equal(md[2], '| ava-p | **100.00 ± 0.00** † | **80.00 ± 14.14** |');
  assert.equal(md[3], '| bt (baseline) | 10.00 ± 0.00 | 60.00 ± 0.00 |');
  assert.equal(md[4], '| best possible | 90.00 | 90.00 |');
  assert.equal(methodTableCsv(t).split('\n')[1], 'ava-p,100.00,0.00,0.00000763,80.00,14.14,0.295');
  assert.match(methodTableLatex(t), /ava-p & \\textbf\{100\.00 \$\\pm\$ 0\.00\}\$\^\\dagger\$ & \\textbf\{80\.00 \$\\pm\$ 14\.14\} \\\\/);
});

test('the baseline is a method or variant name when one is so named, else an objective kind', () => {
  const cells = [
    cell('harmless AVA-p', 0, 'ava-p', 'harmless', 0.8),
    cell('harmless w/o rwt', 0, 'ava-p', 'harmless', 0.7),
    cell('harmless BT', 0, 'bt', 'harmless', 0.75),
    cell('summary AVA-p', 0, 'ava-p', 'summary', 0.8),
    cell('summary w/o rwt', 0, 'ava-p', 'summary', 0.7),
    cell('summary BT', 0, 'bt', 'summary', 0.75),
  ];
  const names = (baseline: string) => cells.filter(baselineMatcher(cells, baseline)).map((c) => c.variant);
  assert.deepEqual(names('AVA-p'), ['harmless AVA-p', 'summary AVA-p'], 'the method, not every ava-p cell');
  assert.deepEqual(names('summary BT'), ['summary BT']);
  assert.deepEqual(names('bt'), ['harmless BT', 'summary BT']);
  assert.deepEqual(names('dpo'), []);
  assert.equal(methodTaskTable(cells, 'AVA-p')!.baseline, 'AVA-p');
  assert.equal(methodTaskTable(cells, 'bt')!.baseline, 'BT');
  assert.equal(methodTaskTable(cells, 'dpo')!.baseline, null);
});
