/**
 * `npm run bench`: training speed of a fixed TQR configuration.
 *
 * For each available TensorFlow.js backend it times full training steps (forward, backward,
 * AdamW) of the LM objective and of AVA-p, then runs the wasm LM step in two processes at
 * once (wasm is single-threaded under Node: processes are how a grid or a data-parallel run
 * uses both cores). When `torch` is importable it trains the same GPT with the same batch in
 * PyTorch (bench/torch_gpt.py) and prints the ratio. Also reports peak memory and whether the
 * tensor count stayed flat. Results go to stdout and `bench/results.json`.
 *
 *   npm run bench -- [--steps N] [--backends wasm,cpu] [--no-torch] [--no-parallel]
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/engine/backend.js';
import { AdamW } from '../src/core/engine/optim.js';
import { DEFAULT_MODEL, DEFAULT_OBJECTIVE, type BackendChoice, type ModelConfig, type ObjectiveKind, type RunConfig } from '../src/core/experiment/config.js';
import { TQR, headsFor } from '../src/core/model/tqr.js';
import { collatePairs, collateSeqs } from '../src/core/data/batch.js';
import type { EncodedSeq, PairExample } from '../src/core/data/types.js';
import { objectiveLoss, pretrainLoss, type Models } from '../src/core/train/objective.js';

/** The fixed configuration (the one measured in the offline-environment notes). */
export const BENCH = { vocab: 512, d_model: 128, n_layer: 4, n_head: 4, context: 64, batch: 16 } as const;

interface StepResult {
  backend: string;
  objective: 'lm' | 'ava-p';
  tokens_per_s: number;
  step_ms: number;
  tokens_per_step: number;
  tensors_after_warmup: number;
  tensors_at_end: number;
  peak_rss_mb: number;
}

function benchModelConfig(): ModelConfig {
  return { ...DEFAULT_MODEL, n_layer: BENCH.n_layer, n_head: BENCH.n_head, d_model: BENCH.d_model, context: BENCH.context, pref_attn_dim: BENCH.d_model };
}

/** Deterministic pseudo-random token sequences of full length (half prompt, half response). */
function sequences(n: number, seed: number): EncodedSeq[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (BENCH.vocab - 4)) + 4;
  return Array.from({ length: n }, () => ({ ids: [1, ...Array.from({ length: BENCH.context - 1 }, next)], promptLen: BENCH.context / 2 }));
}

/** Time `steps` training steps of one objective on the current backend, after 3 warm-up steps. */
function timeSteps(objective: 'lm' | 'ava-p', steps: number): StepResult {
  const m = benchModelConfig();
  const kind: ObjectiveKind = objective === 'lm' ? 'sft' : 'ava-p';
  const run = { model: m, objective: { ...DEFAULT_OBJECTIVE, kind } } as RunConfig;
  const policy = new TQR(m, BENCH.vocab, { seed: 0, heads: headsFor(kind, m) });
  const models: Models = { policy, reference: null };
  const opt = new AdamW(policy.variables(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, gradClip: 1, warmupSteps: 0, totalSteps: steps + 3, schedule: 'constant' });
  const seqs = sequences(BENCH.batch * 2, 7);
  const pairs: PairExample[] = Array.from({ length: BENCH.batch }, (_, i) => ({ line: i + 1, chosen: seqs[2 * i], rejected: seqs[2 * i + 1] }));
  const lmBatch = collateSeqs(seqs.slice(0, BENCH.batch));
  const pairBatch = collatePairs(pairs);
  const tokensPerStep = objective === 'lm' ? BENCH.batch * BENCH.context : 2 * BENCH.batch * BENCH.context;
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => (objective === 'lm' ? pretrainLoss(models, lmBatch) : objectiveLoss(models, pairBatch, run)).loss, [...policy.variables().values()]);
      opt.applyGradients(grads);
      value.dataSync();
    });
  let peak = 0;
  for (let i = 0; i < 3; i++) step();
  const tensorsAfterWarmup = tf.memory().numTensors;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    step();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = (performance.now() - t0) / steps;
  const result: StepResult = {
    backend: tf.getBackend(),
    objective,
    tokens_per_s: (tokensPerStep * 1000) / ms,
    step_ms: ms,
    tokens_per_step: tokensPerStep,
    tensors_after_warmup: tensorsAfterWarmup,
    tensors_at_end: tf.memory().numTensors,
    peak_rss_mb: peak / 2 ** 20,
  };
  opt.dispose();
  policy.dispose();
  tf.dispose([lmBatch.ids, lmBatch.valid, lmBatch.resp, pairBatch.chosen.ids, pairBatch.chosen.valid, pairBatch.chosen.resp, pairBatch.rejected.ids, pairBatch.rejected.valid, pairBatch.rejected.resp]);
  return result;
}

/** Worker mode: one backend, one objective, JSON on stdout. */
async function worker(backend: BackendChoice, objective: 'lm' | 'ava-p', steps: number): Promise<void> {
  await initBackend(backend, () => {});
  process.stdout.write(JSON.stringify(timeSteps(objective, steps)) + '\n');
}

function runWorker(backend: string, objective: string, steps: number): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--worker', '--backend', backend, '--objective', objective, '--steps', String(steps)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as StepResult) : reject(new Error(`bench worker (${backend}, ${objective}) exited with ${code}`))));
  });
}

/** The same GPT, batch and optimiser in PyTorch, when importable. */
function torchReference(steps: number): { tokens_per_s: number; threads: string; torch: string } | { unavailable: string } {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!python) return { unavailable: 'torch is not importable (Debian: apt-get install python3-torch libopenblas0-pthread)' };
  const script = join(benchDir(), 'torch_gpt.py');
  if (!existsSync(script)) return { unavailable: `missing ${script}` };
  const r = spawnSync(python, [script, '--steps', String(steps), ...Object.entries(BENCH).flatMap(([k, v]) => [`--${k}`, String(v)])], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) return { unavailable: `torch_gpt.py failed: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokens_per_s: number; threads: string; torch: string };
}

/** bench/ of the checkout, whether running from source (bench/bench.ts) or the bundle (dist/bench.cjs). */
function benchDir(): string {
  return join(dirname(process.argv[1]), '..', 'bench');
}

const fmt = (x: number) => x.toFixed(0).padStart(7);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      worker: { type: 'boolean' },
      backend: { type: 'string' },
      objective: { type: 'string' },
      steps: { type: 'string' },
      backends: { type: 'string' },
      'no-torch': { type: 'boolean' },
      'no-parallel': { type: 'boolean' },
    },
  });
  const steps = Number(values.steps ?? 20);
  if (values.worker) return worker(values.backend as BackendChoice, values.objective as 'lm' | 'ava-p', steps);

  const require_ = createRequire(process.argv[1]);
  const native = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => {
    try {
      require_.resolve(p);
      return true;
    } catch {
      return false;
    }
  });
  const backends = (values.backends ?? `${native ? 'tensorflow,' : ''}wasm,cpu`).split(',');
  console.log(`TQR bench: vocab ${BENCH.vocab}, width ${BENCH.d_model}, ${BENCH.n_layer} layers, ${BENCH.n_head} heads, context ${BENCH.context}, batch ${BENCH.batch}; ${steps} timed steps`);
  const results: StepResult[] = [];
  for (const backend of backends) {
    for (const objective of ['lm', 'ava-p'] as const) {
      const n = backend === 'cpu' ? Math.max(2, Math.ceil(steps / 10)) : steps;
      const r = await runWorker(backend, objective, n);
      results.push(r);
      console.log(`${r.backend.padEnd(10)} ${objective.padEnd(6)} ${fmt(r.tokens_per_s)} tokens/s  ${r.step_ms.toFixed(0).padStart(6)} ms/step  peak RSS ${r.peak_rss_mb.toFixed(0)} MB  tensors ${r.tensors_after_warmup}→${r.tensors_at_end}`);
    }
  }
  let parallel: { processes: number; tokens_per_s: number } | null = null;
  if (!values['no-parallel'] && backends.includes('wasm')) {
    const both = await Promise.all([runWorker('wasm', 'lm', steps), runWorker('wasm', 'lm', steps)]);
    parallel = { processes: 2, tokens_per_s: both.reduce((a, r) => a + r.tokens_per_s, 0) };
    console.log(`wasm ×2    lm     ${fmt(parallel.tokens_per_s)} tokens/s  (two processes at once, summed)`);
  }
  const torch = values['no-torch'] ? { unavailable: '--no-torch' } : torchReference(steps);
  if ('tokens_per_s' in torch) {
    console.log(`pytorch    lm     ${fmt(torch.tokens_per_s)} tokens/s  (torch ${torch.torch}, ${torch.threads})`);
    const wasm = results.find((r) => r.backend === 'wasm' && r.objective === 'lm');
    if (wasm) console.log(`ratio to PyTorch: wasm 1 process ${(wasm.tokens_per_s / torch.tokens_per_s).toFixed(3)}x${parallel ? `, wasm 2 processes ${(parallel.tokens_per_s / torch.tokens_per_s).toFixed(3)}x` : ''}`);
  } else {
    console.log(`pytorch: ${torch.unavailable}`);
  }
  const flat = results.every((r) => r.tensors_at_end === r.tensors_after_warmup);
  console.log(`tensor count flat across steps: ${flat ? 'yes' : 'NO'}`);
  const out = join(benchDir(), 'results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), config: BENCH, steps, results, parallel, torch, tensor_count_flat: flat }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
