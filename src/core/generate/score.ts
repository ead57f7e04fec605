/**
 * Text in, sequence reward out: a trained run scores (prompt, response) texts with its own
 * tokenizer (spec §5: the answer is detokenised by the generator and retokenised here), so a
 * reward model can rank answers sampled by any other model. Prompts too long for the reward
 * model's context lose their first tokens (`prompt_left`), whatever the run trained with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collateSeqs } from '../data/batch.js';
import { encodeSeq } from '../data/dataset.js';
import type { TrainedRun } from '../eval/trained.js';
import { disposeSeqBatch } from '../objectives/batching.js';
import { OBJECTIVES, evalView, sequenceRewards } from '../objectives/table.js';
import { tokenRewardReadout } from '../objectives/readout.js';
import type { EncodedSeq, SeqBatch } from '../data/types.js';
import { AvaError } from '../errors.js';

export interface PromptResponse {
  prompt: string;
  response: string;
}

/**
 * R(y) of each text under the run's objective (sequence_reward_mode etc. of its config); with
 * `rl: 'sum'`, an objective with per-token rewards gives instead the sum of its per-step
 * weighted means over the response (Eq. 19, spec §8 #25 `rl_reward_mode`).
 */
export function scoreTexts(trained: TrainedRun, items: readonly PromptResponse[], batchSize = 32, rl: 'sum' | 'last' = 'last'): number[] {
  const { run, tokenizer } = trained;
  const seqs = items.map((it, i) => {
    const seq = encodeSeq(it.prompt, it.response, tokenizer, run.model.context, 'prompt_left');
    if (seq === null) throw new AvaError('data', `answer ${i} is longer than the reward model's context (${run.model.context} tokens) on its own`, { file: trained.runDir });
    return seq;
  });
  const out: number[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) {
    const batch = collateSeqs(seqs.slice(i, i + batchSize), undefined, tokenizer.pad);
    const eq19 = rl === 'sum' && OBJECTIVES[run.objective.kind].tokenRewards;
    const r = tf.tidy(() => (eq19 ? summedTokenRewards(trained, batch) : sequenceRewards(trained.models, batch, run)).dataSync());
    disposeSeqBatch(batch);
    out.push(...r);
  }
  return out;
}

/** Σ over response tokens of the weighted mean μ̃ (spec §5 readout), [B]. */
function summedTokenRewards(trained: TrainedRun, batch: SeqBatch): tf.Tensor1D {
  const { run } = trained;
  return tf.sum(tf.mul(tokenRewardReadout(evalView(trained.models, batch, run), run.model, run.objective).mean, batch.resp), 1) as tf.Tensor1D;
}

/**
 * μ̃ of each response token of sequences already on the run's tokenizer (the policy's own ids,
 * spec §8 #26 `rl_reward_delivery: dense`): per sequence, one value per action ids[k],
 * k = promptLen … len − 1, so they sum to the Eq. 19 score of the same ids. A sequence longer
 * than the reward model's context loses prompt tokens after BOS.
 */
export function tokenScoresOfSeqs(trained: TrainedRun, seqs: readonly EncodedSeq[], batchSize = 32): number[][] {
  const { run, tokenizer } = trained;
  if (!OBJECTIVES[run.objective.kind].tokenRewards) {
    throw new AvaError('config', `a ${run.objective.kind} reward model has no per-token rewards: dense delivery needs an AVA reward model`, { file: trained.runDir, key: 'winrates.ppo.rl_reward_delivery' });
  }
  const context = run.model.context;
  const fitted = seqs.map((s, i) => {
    const excess = s.ids.length - context;
    if (excess <= 0) return s;
    if (s.promptLen - excess < 1) throw new AvaError('data', `sequence ${i} has ${s.ids.length - s.promptLen} response tokens, more than the reward model's context (${context}) holds`, { file: trained.runDir });
    return { ids: [s.ids[0], ...s.ids.slice(1 + excess)], promptLen: s.promptLen - excess };
  });
  const out: number[][] = [];
  for (let i = 0; i < fitted.length; i += batchSize) {
    const part = fitted.slice(i, i + batchSize);
    const batch = collateSeqs(part, undefined, tokenizer.pad);
    const T = batch.ids.shape[1];
    const mean = tf.tidy(() => tokenRewardReadout(evalView(trained.models, batch, run), run.model, run.objective).mean.dataSync());
    disposeSeqBatch(batch);
    part.forEach((s, b) => out.push(Array.from(mean.subarray(b * T + s.promptLen, b * T + s.ids.length))));
  }
  return out;
}
