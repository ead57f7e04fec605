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
import { sequenceRewards } from '../objectives/table.js';
import { AvaError } from '../errors.js';

export interface PromptResponse {
  prompt: string;
  response: string;
}

/** R(y) of each text under the run's objective (sequence_reward_mode etc. of its config). */
export function scoreTexts(trained: TrainedRun, items: readonly PromptResponse[], batchSize = 32): number[] {
  const { run, tokenizer } = trained;
  const seqs = items.map((it, i) => {
    const seq = encodeSeq(it.prompt, it.response, tokenizer, run.model.context, 'prompt_left');
    if (seq === null) throw new AvaError('data', `answer ${i} is longer than the reward model's context (${run.model.context} tokens) on its own`, { file: trained.runDir });
    return seq;
  });
  const out: number[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) {
    const batch = collateSeqs(seqs.slice(i, i + batchSize), undefined, tokenizer.pad);
    const r = tf.tidy(() => sequenceRewards(trained.models, batch, run).dataSync());
    disposeSeqBatch(batch);
    out.push(...r);
  }
  return out;
}
