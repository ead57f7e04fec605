/** `sequenceRewards` (what Best-of-N ranks by) gives, for every objective, the R(y) that reward accuracy compares. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { collatePairs } from '../src/core/data/batch.js';
import { DEFAULT_DATA, DEFAULT_EVAL, DEFAULT_MODEL, DEFAULT_OBJECTIVE, DEFAULT_TOKENIZER, DEFAULT_TRAIN, type ObjectiveKind, type RunConfig } from '../src/core/experiment/config.js';
import { TQR } from '../src/core/model/tqr.js';
import { headsFor, OBJECTIVES, pairRewards, sequenceRewards } from '../src/core/objectives/table.js';

await initBackend('cpu', () => {});

const V = 13;
const run = (kind: ObjectiveKind): RunConfig => ({
  name: 'r', variant: '', seed: 0, recipe: 'paper', engine: { backend: 'cpu' }, data: DEFAULT_DATA, tokenizer: DEFAULT_TOKENIZER,
  model: { ...DEFAULT_MODEL, n_layer: 1, n_head: 2, d_model: 16, context: 12, pref_attn_dim: 8 },
  objective: { ...DEFAULT_OBJECTIVE, kind, sequence_reward_mode: 'weighted_sum' }, train: DEFAULT_TRAIN, eval: DEFAULT_EVAL,
}); // prettier-ignore

for (const kind of Object.keys(OBJECTIVES) as ObjectiveKind[]) {
  test(`${kind}: sequenceRewards of the chosen halves = pairRewards' chosen`, () => {
    const r = run(kind);
    const heads = headsFor(kind, r.model);
    const policy = new TQR(r.model, V, { seed: 1, heads });
    const reference = OBJECTIVES[kind].reference ? new TQR(r.model, V, { seed: 2, heads }) : null;
    const models = { policy, reference };
    const pair = collatePairs([
      { line: 1, chosen: { ids: [1, 4, 5, 6, 2], promptLen: 2 }, rejected: { ids: [1, 4, 7, 2], promptLen: 2 } },
      { line: 2, chosen: { ids: [1, 8, 9, 10, 11, 2], promptLen: 3 }, rejected: { ids: [1, 8, 9, 12, 2], promptLen: 3 } },
    ]);
    const [viaPairs, viaSeqs] = tf.tidy(() => [Array.from(pairRewards(models, pair, r).chosen.dataSync()), Array.from(sequenceRewards(models, pair.chosen, r).dataSync())]);
    viaPairs.forEach((x, i) => assert.ok(Math.abs(x - viaSeqs[i]) < 1e-5, `${x} vs ${viaSeqs[i]}`));
    if (reference) assert.ok(viaSeqs.some((x) => Math.abs(x) > 1e-6), 'the implicit reward against a different reference is not 0');
    policy.dispose();
    reference?.dispose();
  });
}
