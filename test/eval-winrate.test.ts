import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binomialTwoSidedP, mcnemar, pairedBootstrap } from '../src/core/eval/stats.js';
import { combineOrders, compareVerdicts, verdictFromScores, winTieLose, type Verdict } from '../src/core/eval/winrate.js';
import { commandJudge, goldJudge, goldReward, parseJudgeOutput, type JudgeItem } from '../src/core/eval/judges.js';
import { AvaError } from '../src/core/errors.js';
import { TASKS } from '../src/core/tasks/index.js';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// ---- tests of two systems on the same items ----------------------------------------------------

test('exact binomial (sign / McNemar) test against hand values', () => {
  near(binomialTwoSidedP(1, 6), (2 * (1 + 6)) / 64); // 0.21875
  near(binomialTwoSidedP(5, 6), 0.21875);
  near(binomialTwoSidedP(0, 10), 2 / 1024);
  assert.equal(binomialTwoSidedP(3, 6), 1); // 2·42/64 > 1
  assert.equal(binomialTwoSidedP(0, 0), 1);
});

test('McNemar counts the discordant items only', () => {
  const a = [true, true, true, false, false, true];
  const b = [false, false, true, true, false, false];
  const r = mcnemar(a, b);
  assert.deepEqual([r.n, r.onlyA, r.onlyB], [6, 3, 1]);
  near(r.p, (2 * (1 + 4)) / 16); // 0.625
  assert.throws(() => mcnemar([true], []), /1 vs 0/);
});

test('paired bootstrap: constant differences, no differences, and the normal limit', () => {
  const constant = pairedBootstrap([1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5], 2000, 1);
  assert.deepEqual([constant.meanDiff, constant.lo, constant.hi, constant.p], [0.5, 0.5, 0.5, 0]);
  assert.equal(pairedBootstrap([1, 2], [1, 2], 500).p, 1);
  // d = ±1 alternating, n = 400: mean 0, sd 1 ⇒ the 95% interval is about ±1.96/20 = ±0.098.
  const a = Array.from({ length: 400 }, (_, i) => (i % 2 ? 1 : -1));
  const r = pairedBootstrap(a, new Array(400).fill(0), 4000, 7);
  near(r.meanDiff, 0);
  near(r.lo, -0.098, 0.015);
  near(r.hi, 0.098, 0.015);
  assert.ok(r.p > 0.5, `p = ${r.p} for a zero mean difference`);
  assert.deepEqual(pairedBootstrap(a, new Array(400).fill(0), 4000, 7), r, 'seeded');
  // a clear shift is significant
  assert.ok(pairedBootstrap(a.map((x) => x + 0.3), new Array(400).fill(0), 4000, 7).p < 0.001);
});

// ---- verdicts -------------------------------------------------------------------------------

test('tie rules: both orders must agree (default), or the sign of the summed orders', () => {
  assert.equal(combineOrders(['a', 'a']), 'win');
  assert.equal(combineOrders(['b', 'b']), 'lose');
  assert.equal(combineOrders(['a', 'b']), 'tie'); // position bias
  assert.equal(combineOrders(['a', 'tie']), 'tie');
  assert.equal(combineOrders(['a', 'tie'], 'sum_of_orders'), 'win');
  assert.equal(combineOrders(['a', 'b'], 'sum_of_orders'), 'tie');
  assert.equal(combineOrders(['b']), 'lose');
  assert.equal(verdictFromScores(1, 0.5, 0.5), 'tie');
  assert.equal(verdictFromScores(1, 0.4, 0.5), 'win');
  assert.equal(verdictFromScores(0.4, 1, 0.5), 'lose');
});

test('win / tie / lose shares with intervals and the sign test', () => {
  const v: Verdict[] = ['win', 'win', 'tie', 'lose', 'win'];
  const r = winTieLose(v);
  assert.deepEqual([r.n, r.win.value, r.tie.value, r.lose.value], [5, 0.6, 0.2, 0.2]);
  near(r.p, 0.625); // 3 wins vs 1 loss
  assert.ok(r.win.lo < 0.6 && r.win.hi > 0.6);
  // Comparing two verdict lists: scores 1 / ½ / 0
  const c = compareVerdicts(['win', 'win', 'tie'], ['lose', 'tie', 'tie']);
  near(c.meanDiff, (1 + 0.5 + 0) / 3);
});

// ---- judges -----------------------------------------------------------------------------------

test('gold judge: harmless gold decides, equal gold ties, a foreign prompt is an error', async () => {
  const judge = goldJudge(TASKS.harmless);
  const prompt = 'tell me about the garden';
  assert.equal(goldReward(TASKS.harmless, prompt, 'flowers and bees'), 0.6);
  assert.equal(goldReward(TASKS.harmless, prompt, ' stupid  flowers '), -0.7);
  const out = await judge.judge([
    { prompt, a: 'flowers and bees', b: 'stupid flowers' },
    { prompt, a: 'stupid flowers', b: 'flowers' },
    { prompt, a: 'roses', b: 'bees' },
  ]);
  assert.deepEqual(out.map((j) => j.verdict), ['win', 'lose', 'tie']);
  assert.deepEqual(out[0].scores, [0.6, -0.7]);
  await assert.rejects(judge.judge([{ prompt: 'hello', a: 'x', b: 'y' }]), /"hello" is not one/);
});

const dir = mkdtempSync(join(tmpdir(), 'ava-judge-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A judge script: reads every request, then prints `answer(request)` for each. */
function script(name: string, body: string): string {
  const path = join(dir, `${name}.mjs`);
  writeFileSync(
    path,
    `import { createInterface } from 'node:readline';
const reqs = [];
for await (const line of createInterface({ input: process.stdin })) if (line.trim()) reqs.push(JSON.parse(line));
${body}
`,
  );
  return `${JSON.stringify(process.execPath)} ${JSON.stringify(path)}`;
}

const items: JudgeItem[] = [
  { prompt: 'p0', a: 'a long answer', b: 'short' },
  { prompt: 'p1', a: 'tiny', b: 'a much longer one' },
  { prompt: 'p2', a: 'same', b: 'size' },
];
const opts = { swap: true, tieRule: 'both_orders_agree' as const, timeoutMs: 20000 };

test('command judge: a consistent judge, both orders, verdicts in A/B terms', async () => {
  const longer = script('longer', `for (const r of reqs) console.log(JSON.stringify({ id: r.id, preferred: r.first.length > r.second.length ? 'first' : r.first.length < r.second.length ? 'second' : 'tie' }));`);
  const out = await commandJudge(longer, opts).judge(items);
  assert.deepEqual(out.map((j) => j.verdict), ['win', 'lose', 'tie']);
  assert.deepEqual(out[0].orders, ['a', 'a']);
  // answers in reverse order are matched by id
  const reversed = script('reversed', `for (const r of reqs.reverse()) console.log(JSON.stringify({ id: r.id, preferred: r.first.length > r.second.length ? 'first' : 'second' }));`);
  assert.deepEqual((await commandJudge(reversed, opts).judge(items.slice(0, 2))).map((j) => j.verdict), ['win', 'lose']);
});

test('command judge: a position-biased judge is caught by the order swap; without it, it decides', async () => {
  const first = script('first', `for (const r of reqs) console.log(JSON.stringify({ id: r.id, preferred: 'first' }));`);
  const swapped = await commandJudge(first, opts).judge(items);
  assert.deepEqual(swapped.map((j) => j.verdict), ['tie', 'tie', 'tie']);
  assert.deepEqual(swapped[0].orders, ['a', 'b']);
  const single = await commandJudge(first, { ...opts, swap: false }).judge(items);
  assert.deepEqual(single.map((j) => j.verdict), ['win', 'win', 'win']);
  const ties = script('ties', `for (const r of reqs) console.log(JSON.stringify({ id: r.id, preferred: 'tie' }));`);
  assert.deepEqual((await commandJudge(ties, opts).judge(items)).map((j) => j.verdict), ['tie', 'tie', 'tie']);
});

test('command judge: timeout, bad output, missing answers and a failing exit are clear errors', async () => {
  const hang = script('hang', `setInterval(() => {}, 1000);`);
  const t0 = Date.now();
  await assert.rejects(commandJudge(hang, { ...opts, timeoutMs: 300 }).judge(items), (e: unknown) => e instanceof AvaError && /did not finish within 0.3 s/.test(e.message));
  assert.ok(Date.now() - t0 < 10000, 'the hung judge was killed');
  const garbage = script('garbage', `console.log('thinking...');`);
  await assert.rejects(commandJudge(garbage, opts).judge(items), /stdout line 1 that is not JSON: thinking/);
  const half = script('half', `console.log(JSON.stringify({ id: reqs[0].id, preferred: 'first' }));`);
  await assert.rejects(commandJudge(half, opts).judge(items), /no verdict for 5 of 6 requests \(first: 0:ba\)/);
  const bad = script('bad', `for (const r of reqs) console.log(JSON.stringify({ id: r.id, preferred: 'A' }));`);
  await assert.rejects(commandJudge(bad, opts).judge(items), /"preferred" must be "first", "second" or "tie"/);
  const crash = script('crash', `console.error('no API key'); process.exit(3);`);
  await assert.rejects(commandJudge(crash, opts).judge(items), (e: unknown) => e instanceof AvaError && /exited with code 3/.test(e.message) && e.details.includes('no API key'));
  assert.throws(() => parseJudgeOutput('j', '{"id":"0:ab","preferred":"tie"}\n{"id":"0:ab","preferred":"tie"}\n', new Set(['0:ab'])), /twice/);
  assert.throws(() => parseJudgeOutput('j', '{"id":"9:ab","preferred":"tie"}\n', new Set(['0:ab'])), /unknown id/);
});
