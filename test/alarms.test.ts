/**
 * Collapse alarms (core/train/alarms.ts) on logged records: when they fire, that they fire once,
 * that healthy values and the settling steps do not raise them, and what they advise.
 * The trainer-level test on a run that really collapses is in train-alarms.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recipeDefaults, type RunConfig } from '../src/core/experiment/config.js';
import { CollapseMonitor, FLAT, WINDOW, alarmText, settleSteps } from '../src/core/train/alarms.js';
import type { MetricRecord } from '../src/protocol/events.js';

function runConfig(recipe: 'paper' | 'robust', steps = 400, pretrain = 100): RunConfig {
  const d = recipeDefaults(recipe);
  return { name: 'a', variant: '', seed: 0, ...d, train: { ...d.train, steps, pretrain_steps: pretrain } };
}

const rec = (step: number, values: Record<string, number>, phase: MetricRecord['phase'] = 'train'): MetricRecord => ({ step, phase, time: step, values });
const COLLAPSED = { loss: 1, cer: -0.5, reward_margin: 2e-7, reward_scale: 3e-6, response_weight: 0.4 };
const HEALTHY = { loss: 1, cer: 0.4, reward_margin: 0.8, reward_scale: 1.2, response_weight: 0.5 };

/** Feed records at steps from..to (every 10) and collect what they raise. */
function feed(m: CollapseMonitor, from: number, to: number, values: Record<string, number>) {
  const out = [];
  for (let s = from; s <= to; s += 10) out.push(...m.observe(rec(s, values)));
  return out;
}

describe('CollapseMonitor', () => {
  it('raises reward_flat once, after WINDOW logged steps past the settling steps', () => {
    const run = runConfig('paper');
    const m = new CollapseMonitor(run);
    const settle = run.train.pretrain_steps + settleSteps(run);
    assert.deepEqual(feed(m, 10, settle - 10, COLLAPSED), [], 'nothing while settling (LM warm-up and the first objective steps)');
    const raised = feed(m, settle, settle + 10 * (WINDOW + 5), COLLAPSED);
    assert.equal(raised.length, 1);
    assert.equal(raised[0].kind, 'reward_flat');
    assert.equal(raised[0].step, settle + 10 * (WINDOW - 1));
    assert.deepEqual(raised[0].values, { reward_margin: 2e-7, reward_scale: 3e-6, cer: -0.5, response_weight: 0.4 });
    assert.match(raised[0].remedy, /recipe: robust/, 'the paper recipe is told to try robust');
    assert.deepEqual(m.alarms(), raised);
  });

  it('does not fire on healthy values, nor when one record of the window breaks the streak', () => {
    const run = runConfig('robust');
    const m = new CollapseMonitor(run);
    assert.deepEqual(feed(m, 0, 500, HEALTHY), []);
    const m2 = new CollapseMonitor(run);
    const start = run.train.pretrain_steps + settleSteps(run);
    const pattern = [COLLAPSED, COLLAPSED, HEALTHY, COLLAPSED, COLLAPSED, HEALTHY];
    assert.equal(WINDOW, 3);
    const raised = pattern.flatMap((v, i) => m2.observe(rec(start + 10 * i, v)));
    assert.deepEqual(raised, []);
  });

  it('a margin away from zero is learning even when |R| is small (and the reverse)', () => {
    const run = runConfig('robust', 40, 0);
    const m = new CollapseMonitor(run);
    assert.deepEqual(feed(m, 10, 200, { ...COLLAPSED, reward_margin: 10 * FLAT }), []);
    assert.deepEqual(feed(new CollapseMonitor(run), 10, 200, { ...COLLAPSED, reward_scale: 10 * FLAT }), []);
  });

  it('raises weights_off_response when Σ w over the response falls to ≈ 0', () => {
    const run = runConfig('paper');
    const raised = feed(new CollapseMonitor(run), 0, 400, { ...HEALTHY, response_weight: 9e-4 });
    assert.deepEqual(raised.map((a) => a.kind), ['weights_off_response']);
    assert.match(raised[0].remedy, /reward_weight_targets: mu_sigma/);
    assert.match(alarmText(raised[0]), /^reward weights left the response.*Try: set `model.reward_weight_targets: mu_sigma`/);
  });

  it('AVA-d (no margin logged) is judged on the reward scale alone; eval and pretrain records are ignored', () => {
    const run = runConfig('robust', 400, 0);
    const { reward_margin: _m, ...noMargin } = COLLAPSED;
    assert.equal(feed(new CollapseMonitor(run), 0, 300, noMargin).length, 1);
    const m = new CollapseMonitor(run);
    for (let s = 100; s < 300; s += 10) assert.deepEqual(m.observe(rec(s, COLLAPSED, 'eval')), []);
    assert.deepEqual(feed(new CollapseMonitor(run), 0, 300, { loss: 1 }), [], 'objectives without the diagnostics');
  });

  it('under robust it advises the next switch, not the recipe it already has', () => {
    const run = runConfig('robust');
    const [alarm] = feed(new CollapseMonitor(run), 0, 400, COLLAPSED);
    assert.doesNotMatch(alarm.remedy, /recipe: robust/);
    assert.match(alarm.remedy, /cer_coef/);
  });

  it('a resumed run keeps the alarms it had and does not raise them again', () => {
    const run = runConfig('paper');
    const first = new CollapseMonitor(run);
    const [alarm] = feed(first, 0, 400, COLLAPSED);
    const resumed = new CollapseMonitor(run, [alarm]);
    assert.deepEqual(feed(resumed, 300, 500, COLLAPSED), []);
    assert.deepEqual(resumed.alarms(), [alarm]);
  });
});
