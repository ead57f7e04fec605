/**
 * The win-rate stage: the `winrates:` section is validated against the grid with file positions,
 * and a real grid (an SFT generator, a Bradley-Terry reward model) trained by the CLI gets
 * Best-of-N answers judged by the gold reward and by a command judge; the report's numbers are
 * recomputed here from the verdict files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment } from '../src/core/experiment/load.js';
import { parseComparison, systemName } from '../src/core/winrates/systems.js';
import { buildReport } from '../src/core/winrates/report.js';
import { DEFAULT_WINRATES } from '../src/core/experiment/config.js';
import type { WinratesReport } from '../src/core/winrates/report.js';
import type { SequenceRewards } from '../src/protocol/events.js';
import { attributionVariant, pickBest } from '../src/core/winrates/run.js';
import { listPpoRuns } from '../src/core/winrates/layout.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];
const cli = (args: string[], cwd: string) => {
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'ava-winrates-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const BASE = `name: wr
seeds: [0, 1]
engine: { backend: wasm }
data:
  task: harmless
  task_options: { n_train: 400, n_eval: 60, noise: 0.1, seed: 0 }
model: { n_layer: 1, n_head: 2, d_model: 32, context: 24, pref_attn_dim: 16 }
train: { steps: 150, batch_size: 16, lr: 0.003, warmup_steps: 5, log_every: 50, eval_every: 150, checkpoint_every: 150 }
eval: { dump_token_rewards: 0 }
ablations:
  sft: { objective: { kind: sft } }
  bt: { objective: { kind: bt } }
  ava: { objective: { kind: ava-p } }
`;

test('systems and comparisons parse; base names the variant of a grid without ablations', () => {
  const c = parseComparison('bon:w/o rwt vs stochastic', ['', 'w/o rwt']);
  assert.ok(typeof c !== 'string');
  assert.deepEqual([systemName(c.a), systemName(c.b)], ['bon:w/o rwt', 'stochastic']);
  const base = parseComparison('policy:base vs bon:gold', ['']);
  assert.ok(typeof base !== 'string' && base.a.kind === 'policy' && base.a.variant === '');
  assert.match(parseComparison('bon:x vs stochastic', ['a']) as string, /names no variant/);
  assert.match(parseComparison('stochastic versus bon:gold', ['a']) as string, /must read/);
  assert.match(parseComparison('bon:gold vs bon:gold', ['a']) as string, /with itself/);
  assert.match(parseComparison('best vs bon:gold', ['a']) as string, /not a system/);
});

test('winrates section errors point at the line and key that cause them', () => {
  const text = `${BASE}winrates:
  compare:
    - bon:bt vs stochastic
    - bon:nope vs stochastic
  judge: reward_model
`;
  const ds = parseExperiment(text, join(dir, 'bad.ava.yaml')).diagnostics.filter((d) => d.severity === 'error');
  const byKey = Object.fromEntries(ds.map((d) => [d.key, d]));
  assert.match(byKey['winrates.compare[1]'].message, /"bon:nope" names no variant/);
  assert.equal(byKey['winrates.compare[1]'].line, 17);
  assert.match(byKey['winrates.generator'].message, /need winrates.generator/);
  assert.match(byKey['winrates.judge_variant'].message, /judge_variant/);
  const noTask = parseExperiment(`${BASE.replace('task: harmless', 'task: null\n  train: t.jsonl')}winrates: { generator: sft, compare: [bon:gold vs stochastic] }\n`, join(dir, 'nt.ava.yaml'));
  assert.ok(noTask.diagnostics.some((d) => d.severity === 'error' && /only for built-in tasks/.test(d.message)));
  const ok = parseExperiment(`${BASE}winrates: { generator: sft, compare: [bon:bt vs stochastic] }\n`, join(dir, 'ok.ava.yaml'));
  assert.deepEqual(ok.diagnostics.filter((d) => d.severity === 'error'), []);
});

test('report: shares per seed, mean ± std over seeds, pooled intervals and sign test, mean gold', () => {
  const c = parseComparison('bon:bt vs stochastic', ['bt']);
  assert.ok(typeof c !== 'string');
  const r = buildReport({
    experiment: 'x',
    judge: 'gold',
    config: { ...DEFAULT_WINRATES, generator: 'sft' },
    comparisons: [c],
    seeds: [
      { seed: 0, prompts: 4, comparisons: [{ text: c.text, verdicts: ['win', 'win', 'tie', 'lose'] }], gold: { 'bon:bt': [1, 2, 3, 4], stochastic: [0, 0, 0, 0] } },
      { seed: 1, prompts: 4, comparisons: [{ text: c.text, verdicts: ['win', 'tie', 'tie', 'tie'] }], gold: { 'bon:bt': [2, 2, 2, 2], stochastic: [1, 1, 1, 1] } },
    ],
  });
  const [row] = r.comparisons;
  assert.deepEqual(row.per_seed.map((s) => [s.win, s.tie, s.lose]), [[0.5, 0.25, 0.25], [0.25, 0.75, 0]]);
  assert.equal(row.mean.win, 0.375);
  assert.ok(Math.abs(row.std.win - Math.sqrt(0.03125)) < 1e-12); // values 0.5, 0.25: sd = 0.25/√2
  assert.deepEqual([row.pooled.n, row.pooled.win.value, row.pooled.tie.value, row.pooled.lose.value], [8, 3 / 8, 4 / 8, 1 / 8]);
  assert.ok(Math.abs(row.pooled.p - 0.625) < 1e-12); // 3 wins vs 1 loss
  const bt = r.systems.find((s) => s.name === 'bon:bt')!;
  assert.deepEqual([bt.gold_per_seed, bt.gold_mean], [[2.5, 2], 2.25]);
});

test('attribution: the comparison\'s own AVA system colours its answers, else the grid\'s first AVA variant, else none', () => {
  const variants = ['sft', 'bt', 'ava', 'ava2'];
  const of = (line: string, withRewards = ['ava', 'ava2']) => {
    const c = parseComparison(line, variants);
    assert.ok(typeof c !== 'string');
    return attributionVariant(c, variants, withRewards);
  };
  assert.equal(of('bon:ava2 vs bon:ava'), 'ava2');
  assert.equal(of('ppo:bt vs ppo:ava2'), 'ava2');
  assert.equal(of('policy:ava2 vs policy:sft'), 'ava2');
  assert.equal(of('bon:bt vs stochastic'), 'ava');
  assert.equal(of('bon:bt vs stochastic', []), null);
});

test('pickBest takes the highest score per prompt, the first of equals', () => {
  assert.deepEqual(pickBest([['a', 'b', 'c'], ['d', 'e', 'f']], [1, 3, 3, 0, -1, -2], 3), ['b', 'd']);
});

test('a trained grid: Best-of-N by the gold never loses to one sample, BoN by a trained BT wins; files agree with the report', () => {
  const judge = join(dir, 'longer.mjs');
  writeFileSync(
    judge,
    `import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  console.log(JSON.stringify({ id: r.id, preferred: r.first.length >= r.second.length ? 'first' : 'second' }));
}
`,
  );
  const exp = join(dir, 'wr.ava.yaml');
  writeFileSync(exp, `${BASE}winrates:\n  generator: sft\n  prompts: 40\n  bon_n: 8\n  max_new_tokens: 10\n  ppo: { steps: 6, batch_size: 16 }\n  compare: [bon:gold vs stochastic, bon:bt vs stochastic, ppo:bt vs stochastic]\n`);
  const grid = join(dir, 'grid');
  const r = cli(['run', exp, '--out', grid, '--jobs', '2'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /# Win rates: wr/);
  const report = JSON.parse(readFileSync(join(grid, 'winrates', 'winrates.json'), 'utf8')) as WinratesReport;
  assert.deepEqual(report.seeds, [0, 1]);
  // Each cell keeps its per-pair evaluation (for McNemar between variants): it adds up to eval.json's accuracy.
  const evalPairs = readFileSync(join(grid, 'bt', 'seed-0', 'eval_pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(evalPairs.length, 60);
  const acc = JSON.parse(readFileSync(join(grid, 'bt', 'seed-0', 'eval.json'), 'utf8')).reward_acc.value;
  assert.equal(evalPairs.filter((p) => p.correct).length / 60, acc);
  assert.ok(evalPairs.every((p) => p.correct === p.chosen > p.rejected && Number.isInteger(p.line)));
  const [gold, bt] = report.comparisons;
  // The gold's best of 8 includes the one sample: it can tie but never lose.
  assert.equal(gold.pooled.lose.value, 0);
  assert.ok(gold.pooled.win.value > 0.5, `bon:gold won ${gold.pooled.win.value}`);
  // A BT reward model trained 150 steps ranks well enough for BoN to beat one sample on both seeds.
  for (const s of bt.per_seed) assert.ok(s.win > s.lose, `seed ${s.seed}: win ${s.win}, lose ${s.lose}`);
  assert.ok(bt.pooled.p < 0.01, `sign test p = ${bt.pooled.p}`);
  // Recompute seed 0 from its files: verdicts follow the gold of the two answers.
  const rows = (name: string) => readFileSync(join(grid, 'winrates', 'seed-0', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const verdicts = rows('verdicts.jsonl').filter((v) => v.comparison === 'bon:bt vs stochastic');
  assert.equal(verdicts.length, 40);
  for (const v of verdicts) assert.equal(v.verdict, v.scores[0] > v.scores[1] ? 'win' : v.scores[0] < v.scores[1] ? 'lose' : 'tie');
  assert.equal(verdicts.filter((v) => v.verdict === 'win').length / 40, bt.per_seed[0].win);
  // Each judged answer carries the per-token rewards of the grid's AVA reward model (no AVA
  // system in this comparison, so the grid's first AVA variant), aligned with its words' gold.
  for (const v of verdicts) {
    assert.equal(v.rewards_by, 'ava/seed-0');
    const sides: [string, SequenceRewards, number[]][] = [[v.a, v.a_rewards, v.a_gold_words], [v.b, v.b_rewards, v.b_gold_words]];
    for (const [text, seq, goldWords] of sides) {
      const tokens = seq.tokens.map((t) => t.token);
      assert.equal(tokens.at(-1), '<eos>');
      assert.equal(tokens.slice(0, -1).join(' '), text);
      assert.deepEqual(seq.tokens.slice(0, -1).map((t) => t.gold), goldWords);
      assert.ok(seq.tokens.every((t) => Number.isFinite(t.mean) && t.std > 0));
    }
  }
  assert.ok(new Set(verdicts.flatMap((v) => (v.a_rewards as SequenceRewards).tokens.map((t) => t.mean.toFixed(4)))).size > 20, 'the rewards vary');
  const samples = rows('samples.jsonl');
  assert.equal(samples.length, 40 * 8);
  const answers = rows('answers.jsonl');
  const bonBt = answers.filter((a) => a.system === 'bon:bt');
  bonBt.forEach((a) => {
    const cands = samples.filter((s) => s.prompt_index === a.prompt_index);
    const best = Math.max(...cands.map((s) => s.scores['bon:bt']));
    assert.equal(cands.find((s) => s.scores['bon:bt'] === best).response, a.response);
  });
  assert.equal(readFileSync(join(grid, 'winrates', 'winrates.md'), 'utf8').includes('| bon:gold vs stochastic |'), true);
  // PPO against the BT reward model: its iterations are logged, its answers judged like any system.
  const ppoDir = join(grid, 'winrates', 'seed-1', 'ppo-bt');
  const ppoMetrics = readFileSync(join(ppoDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(ppoMetrics.map((m) => m.step), [1, 2, 3, 4, 5, 6]);
  assert.ok(ppoMetrics.every((m) => m.phase === 'train' && Number.isFinite(m.values['objective/kl']) && Number.isFinite(m.values['objective/scores']) && Number.isFinite(m.values['objective/gold'])));
  // …in a run directory the Runs view lists: who was tuned against whom, and how far it got.
  const ppoConfig = readFileSync(join(ppoDir, 'config.yaml'), 'utf8');
  for (const line of ['variant: ppo:bt', 'seed: 1', 'generator: sft/seed-1', 'reward_model: bt/seed-1', 'steps: 6']) assert.ok(ppoConfig.includes(line), `config.yaml has "${line}"`);
  assert.equal(JSON.parse(readFileSync(join(ppoDir, 'status.json'), 'utf8')).status, 'finished');
  assert.deepEqual(listPpoRuns(grid).map((r) => [r.seed, r.rewardVariant]), [[0, 'bt'], [1, 'bt']]);
  assert.equal(report.comparisons[2].text, 'ppo:bt vs stochastic');
  assert.equal(answers.filter((a) => a.system === 'ppo:bt').length, 40);

  // The same grid judged again by a command (prefers the longer answer, in both orders).
  const judged = join(dir, 'judged.ava.yaml');
  writeFileSync(judged, readFileSync(exp, 'utf8').replace('  compare:', `  judge: command\n  judge_command: ${JSON.stringify(`${process.execPath} ${judge}`)}\n  compare:`));
  const again = cli(['winrates', grid, '--experiment', judged], dir);
  assert.equal(again.code, 0, again.stderr);
  const byCommand = JSON.parse(readFileSync(join(grid, 'winrates', 'winrates.json'), 'utf8')) as WinratesReport;
  assert.match(byCommand.judge, /^command:/);
  const v0 = readFileSync(join(grid, 'winrates', 'seed-0', 'verdicts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const v of v0) {
    const expected = v.a.length > v.b.length ? 'win' : v.a.length < v.b.length ? 'lose' : 'tie'; // equal lengths: "first" in both orders ⇒ tie
    assert.equal(v.verdict, expected, JSON.stringify(v));
    assert.equal(v.orders.length, 2);
  }
});
