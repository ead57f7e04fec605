/**
 * A trained run loaded back from its directory: the resolved config, the tokenizer and the
 * model weights of its newest checkpoint (plus the DPO reference), ready to score data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AvaError } from '../errors.js';
import type { BackendChoice, RunConfig } from '../experiment/config.js';
import { parseRunConfigYaml } from '../experiment/grid.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { TQR } from '../model/tqr.js';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { CHECKPOINTS_DIR, LATEST_CHECKPOINT, RUN_CONFIG } from '../run/layout.js';
import { readJsonFile } from '../run/files.js';
import { splitWeights, type Models } from '../objectives/models.js';
import { headsFor } from '../objectives/table.js';

export interface TrainedRun {
  runDir: string;
  run: RunConfig;
  step: number;
  tokenizer: Tokenizer;
  models: Models;
  dispose(): void;
}

/** The engine a trained run was configured with (from its config.yaml), to score it the same way. */
/** A run folder's resolved config, or null when it has none that parses. */
export function runConfigOf(runDir: string): RunConfig | null {
  try {
    return parseRunConfigYaml(readFileSync(join(runDir, RUN_CONFIG), 'utf8'), join(runDir, RUN_CONFIG));
  } catch {
    return null;
  }
}

export function configuredBackend(runDir: string): BackendChoice {
  return runConfigOf(runDir)?.engine.backend ?? 'auto';
}

export async function loadTrainedRun(runDir: string): Promise<TrainedRun> {
  const latest = readJsonFile<{ step: number; path: string }>(join(runDir, CHECKPOINTS_DIR, LATEST_CHECKPOINT));
  if (!latest) throw new AvaError('checkpoint', `no checkpoint in ${runDir} (is it a run directory, and did the run save a checkpoint?)`, { file: runDir });
  const ckpt = await loadCheckpoint(join(runDir, CHECKPOINTS_DIR, latest.path));
  const meta = ckpt.meta as { config: RunConfig; step: number };
  const run = meta.config;
  const tokenizer = tokenizerFromJSON(ckpt.tokenizer as Parameters<typeof tokenizerFromJSON>[0]);
  const heads = headsFor(run.objective.kind, run.model);
  const policy = new TQR(run.model, tokenizer.vocabSize, { seed: run.seed, heads });
  const saved = splitWeights(ckpt.weights);
  policy.loadWeights(saved.policy);
  let reference: TQR | null = null;
  if (saved.reference) {
    reference = new TQR(run.model, tokenizer.vocabSize, { seed: run.seed, heads });
    reference.loadWeights(saved.reference);
  }
  tf.dispose([...ckpt.weights.values()]);
  return {
    runDir,
    run,
    step: meta.step,
    tokenizer,
    models: { policy, reference },
    dispose() {
      policy.dispose();
      reference?.dispose();
    },
  };
}
