/**
 * `model.init_from`: start a run from pretrained weights in a local folder, either a GPT-2
 * `model.safetensors` (its LM head becomes the pre-trained Q of spec §4) or a checkpoint of an
 * earlier AVA Lab run. Heads the source does not have keep their fresh initialisation.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { AvaError } from '../errors.js';
import type { ModelConfig } from '../experiment/config.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { GPT2_WEIGHTS_FILE, loadGpt2Weights, readGpt2Shape } from '../model/gpt2-weights.js';
import { CHECKPOINT_META } from '../run/layout.js';
import { splitWeights } from '../objectives/models.js';

export async function loadInitWeights(dir: string, m: ModelConfig, tokenizer: Tokenizer): Promise<Map<string, tf.Tensor>> {
  if (existsSync(join(dir, GPT2_WEIGHTS_FILE))) {
    if (tokenizer.kind !== 'gpt2') throw new AvaError('config', `GPT-2 weights need tokenizer.kind: gpt2 (got ${tokenizer.kind})`, { key: 'tokenizer.kind' });
    const shape = await readGpt2Shape(dir);
    const mismatch = (['n_layer', 'n_head', 'd_model'] as const).filter((k) => shape[k] !== m[k]);
    if (mismatch.length) throw new AvaError('config', `the GPT-2 weights in ${dir} have ${mismatch.map((k) => `${k} ${shape[k]}`).join(', ')}; set the same in model:`, { key: `model.${mismatch[0]}` });
    return loadGpt2Weights(dir, { context: m.context, vocabRows: tokenizer.sourceIds ? [...tokenizer.sourceIds] : undefined });
  }
  if (existsSync(join(dir, CHECKPOINT_META))) {
    const ckpt = await loadCheckpoint(dir);
    const { policy, reference } = splitWeights(ckpt.weights);
    for (const t of reference?.values() ?? []) t.dispose();
    return policy;
  }
  throw new AvaError('config', `${dir} holds neither ${GPT2_WEIGHTS_FILE} nor an AVA Lab checkpoint (${CHECKPOINT_META})`, { key: 'model.init_from' });
}
