/**
 * `npm run bench`: training speed of a fixed TQR configuration (bench/setup.ts).
 *
 * For each available TensorFlow.js backend it times full training steps (forward, backward,
 * AdamW) of the LM objective and of AVA-p in a fresh process. On wasm, which runs one thread
 * per process under Node, it then measures the two ways of using both cores: two independent
 * processes at once (a grid's `--jobs 2`, summed) and one run with `train.workers: 2` (data
 * parallelism over worker threads). When `torch` is importable it trains the same model with the
 * same batch and objective in PyTorch (bench/torch_gpt.py: the LM step and the AVA-p step) and
 * prints each wasm figure as a ratio to it. Also reports peak memory, whether the tensor
 * count stayed flat, and the load average each figure was measured under (timings taken on a
 * busy machine are not comparable). Results go to stdout and `bench/results.json`.
 *
 * Sampling speed: new tokens per second of batched generation from the same model (16 prompts
 * of 8 tokens, up to the 64-token context), with the key/value cache and without it (every
 * step reruns the whole sequence), on each backend.
 *
 *   npm run bench -- [--steps N] [--backends wasm,cpu] [--no-torch] [--no-parallel] [--no-generation]
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/engine/backend.js';
import type { BackendChoice } from '../src/core/experiment/config.js';
import { BENCH, benchModelConfig, benchSequences, makeBenchStep, tokensPerStep, type BenchObjective } from './setup.js';
import { TQR } from '../src/core/model/tqr.js';
import { generate } from '../src/core/generate/generate.js';
import type { Tokenizer } from '../src/core/data/tokenizer.js';

interface StepResult {
  backend: string;
  objective: BenchObjective;
  /** Worker threads of one run (`train.workers`); 1 = the plain single-thread step. */
  workers: number;
  tokens_per_s: number;
  step_ms: number;
  tokens_per_step: number;
  tensors_after_warmup: number;
  tensors_at_end: number;
  peak_rss_mb: number;
  /** 1-minute load average before and after the timed steps. */
  load: [number, number];
}

interface Figure {
  objective: BenchObjective;
  /** `1 process`, `2 processes (grid)` or `2 workers (data parallel)`. */
  setup: string;
  tokens_per_s: number;
  ratio_to_pytorch: number | null;
  load: [number, number];
}

const WARMUP_STEPS = 3;

interface GenerationResult {
  backend: string;
  cache: boolean;
  tokens_per_s: number;
  new_tokens: number;
  seconds: number;
  tensors_leaked: number;
  load: [number, number];
}

const GEN_PROMPTS = 16;
const GEN_PROMPT_LEN = 8;

/** Batched sampling from the bench model: new tokens per second, with or without the cache. */
async function timeGeneration(backend: BackendChoice, cache: boolean): Promise<GenerationResult> {
  await initBackend(backend, () => {});
  const model = new TQR(benchModelConfig(), BENCH.vocab, { seed: 0, heads: { q: false, reward: false, weights: false, value: false } });
  const tok = { pad: 0, bos: 1, eos: 2, unk: 3 } as Tokenizer;
  const prompts = benchSequences(GEN_PROMPTS, 11).map((s) => s.ids.slice(1, 1 + GEN_PROMPT_LEN));
  const opts = { temperature: 1, topK: 0, topP: 1, maxNewTokens: BENCH.context, seed: 0, policy: 'lm' as const, beta: 1, batchSize: GEN_PROMPTS, useCache: cache };
  generate(model, tok, prompts.slice(0, 2), 1, { ...opts, maxNewTokens: 4 }); // warm-up: kernels and constants
  const before = tf.memory().numTensors;
  const loadBefore = loadavg()[0];
  const t0 = performance.now();
  const gens = generate(model, tok, prompts, 1, opts);
  const seconds = (performance.now() - t0) / 1000;
  const newTokens = gens.reduce((n, g) => n + g.logp.length, 0);
  const result: GenerationResult = { backend: tf.getBackend(), cache, tokens_per_s: newTokens / seconds, new_tokens: newTokens, seconds, tensors_leaked: tf.memory().numTensors - before, load: [loadBefore, loadavg()[0]] };
  model.dispose();
  return result;
}

function runGenerationWorker(backend: string, cache: boolean): Promise<GenerationResult> {
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, process.argv[1], '--worker', '--generation', '--backend', backend, ...(cache ? [] : ['--no-cache'])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as GenerationResult) : reject(new Error(`generation bench (${backend}) exited with ${code}`))));
  });
}

/** Time `steps` training steps of one objective on the current backend, after the warm-up. */
async function timeSteps(objective: BenchObjective, steps: number, workers: number, backend: BackendChoice): Promise<StepResult> {
  const engine = await initBackend(backend, () => {});
  const bench = await makeBenchStep(objective, steps + WARMUP_STEPS, workers, engine);
  for (let i = 0; i < WARMUP_STEPS; i++) await bench.step();
  const tensorsAfterWarmup = tf.memory().numTensors;
  const loadBefore = loadavg()[0];
  let peak = 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    await bench.step();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = (performance.now() - t0) / steps;
  const result: StepResult = {
    backend: tf.getBackend(),
    objective,
    workers,
    tokens_per_s: (tokensPerStep(objective) * 1000) / ms,
    step_ms: ms,
    tokens_per_step: tokensPerStep(objective),
    tensors_after_warmup: tensorsAfterWarmup,
    tensors_at_end: tf.memory().numTensors,
    peak_rss_mb: peak / 2 ** 20,
    load: [loadBefore, loadavg()[0]],
  };
  bench.dispose();
  return result;
}

/** Runs one measurement in a fresh process (its own backend and memory). */
function runWorker(backend: string, objective: BenchObjective, steps: number, workers = 1): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, process.argv[1], '--worker', '--backend', backend, '--objective', objective, '--steps', String(steps), '--workers', String(workers)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as StepResult) : reject(new Error(`bench worker (${backend}, ${objective}, ${workers} workers) exited with ${code}`))));
  });
}

interface TorchFigure {
  tokens_per_s: number;
  threads: string;
  torch: string;
  load: [number, number];
}

/**
 * Thread settings tried for PyTorch on two cores; the faster one is the reference. Measured here:
 * OpenBLAS threading helps with one intra-op thread, and two intra-op threads want one BLAS thread.
 */
const TORCH_THREADS = [
  { intraOp: 1, openblas: 2 },
  { intraOp: 2, openblas: 1 },
];

/** The same model, batch, objective and optimiser in PyTorch (bench/torch_gpt.py), when importable: the faster thread setting. */
function torchReference(objective: BenchObjective, steps: number): TorchFigure | { unavailable: string } {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!python) return { unavailable: 'torch is not importable (Debian: apt-get install python3-torch libopenblas0-pthread)' };
  const script = join(benchDir(), 'torch_gpt.py');
  if (!existsSync(script)) return { unavailable: `missing ${script}` };
  let best: TorchFigure | { unavailable: string } = { unavailable: 'no run' };
  for (const { intraOp, openblas } of TORCH_THREADS) {
    const before = loadavg()[0];
    const args = [script, '--objective', objective, '--steps', String(steps), '--threads', String(intraOp), ...Object.entries(BENCH).flatMap(([k, v]) => [`--${k}`, String(v)])];
    const r = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: String(openblas), OMP_NUM_THREADS: String(intraOp) } });
    if (r.status !== 0) return { unavailable: `torch_gpt.py failed: ${r.stderr.trim().split('\n').pop()}` };
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<TorchFigure, 'load'>;
    const figure: TorchFigure = { ...out, threads: `${out.threads}, OpenBLAS ${openblas}`, load: [before, loadavg()[0]] };
    if (!('tokens_per_s' in best) || figure.tokens_per_s > best.tokens_per_s) best = figure;
  }
  return best;
}

/** bench/ of the checkout, whether running from source (bench/bench.ts) or the bundle (dist/bench.cjs). */
function benchDir(): string {
  return join(dirname(process.argv[1]), '..', 'bench');
}

function nativeInstalled(): boolean {
  const require_ = createRequire(process.argv[1]);
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => {
    try {
      require_.resolve(p);
      return true;
    } catch {
      return false;
    }
  });
}

const fmt = (x: number) => x.toFixed(0).padStart(7);
const loadText = ([a, b]: [number, number]) => `load ${a.toFixed(2)}→${b.toFixed(2)}`;

/** Two single-thread processes at once (what `ava-lab run --jobs 2` does with a grid), summed. */
async function twoProcesses(objective: BenchObjective, steps: number): Promise<{ tokens_per_s: number; load: [number, number] }> {
  const both = await Promise.all([runWorker('wasm', objective, steps), runWorker('wasm', objective, steps)]);
  return { tokens_per_s: both.reduce((a, r) => a + r.tokens_per_s, 0), load: [Math.min(...both.map((r) => r.load[0])), Math.max(...both.map((r) => r.load[1]))] };
}

/**
 * The AVA-p step under `recipe: paper` and `recipe: robust` on wasm, one process each, in
 * alternation (paper, robust, paper, robust) so that a drift of the machine hits both; the ratio
 * of the mean tokens/s is the recipe's cost (the recipe issue asks for at most 10 %).
 */
async function compareRecipes(steps: number): Promise<{ paper: number[]; robust: number[]; ratio: number }> {
  const paper: number[] = [];
  const robust: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const objective of ['ava-p', 'ava-p-robust'] as const) {
      const r = await runWorker('wasm', objective, steps);
      (objective === 'ava-p' ? paper : robust).push(r.tokens_per_s);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const ratio = mean(robust) / mean(paper);
  console.log(`\nrecipes (AVA-p, wasm, 1 process, alternating): paper ${paper.map(fmt).join(', ')} tokens/s; robust ${robust.map(fmt).join(', ')} tokens/s; robust / paper ${ratio.toFixed(3)}`);
  return { paper, robust, ratio };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      worker: { type: 'boolean' },
      backend: { type: 'string' },
      objective: { type: 'string' },
      workers: { type: 'string' },
      steps: { type: 'string' },
      backends: { type: 'string' },
      'no-torch': { type: 'boolean' },
      'no-parallel': { type: 'boolean' },
      'no-generation': { type: 'boolean' },
      generation: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      recipes: { type: 'boolean' },
    },
  });
  const steps = Number(values.steps ?? 20);
  if (values.worker && values.generation) {
    process.stdout.write(JSON.stringify(await timeGeneration(values.backend as BackendChoice, !values['no-cache'])) + '\n');
    process.exit(0);
  }
  if (values.worker) {
    const r = await timeSteps(values.objective as BenchObjective, steps, Number(values.workers ?? 1), values.backend as BackendChoice);
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0); // worker threads of a data-parallel step are already stopped; do not wait on stray handles
  }

  if (values.recipes) {
    const recipes = await compareRecipes(steps);
    const out = join(benchDir(), 'recipes.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), config: BENCH, steps, ...recipes }, null, 2) + '\n');
    console.log(`wrote ${out}`);
    process.exit(0);
  }
  const backends = (values.backends ?? `${nativeInstalled() ? 'tensorflow,' : ''}wasm,cpu`).split(',');
  console.log(`TQR bench: vocab ${BENCH.vocab}, width ${BENCH.d_model}, ${BENCH.n_layer} layers, ${BENCH.n_head} heads, context ${BENCH.context}, batch ${BENCH.batch}; ${steps} timed steps; load ${loadavg()[0].toFixed(2)}`);
  const results: StepResult[] = [];
  for (const backend of backends) {
    for (const objective of ['lm', 'ava-p'] as const) {
      const n = backend === 'cpu' ? Math.max(2, Math.ceil(steps / 10)) : steps;
      const r = await runWorker(backend, objective, n);
      results.push(r);
      console.log(`${r.backend.padEnd(10)} ${objective.padEnd(6)} ${fmt(r.tokens_per_s)} tokens/s  ${r.step_ms.toFixed(0).padStart(6)} ms/step  peak RSS ${r.peak_rss_mb.toFixed(0)} MB  tensors ${r.tensors_after_warmup}→${r.tensors_at_end}  ${loadText(r.load)}`);
    }
  }
  const figures: Figure[] = [];
  const torch = Object.fromEntries((['lm', 'ava-p'] as const).map((o) => [o, values['no-torch'] ? { unavailable: '--no-torch' } : torchReference(o, steps)])) as Record<BenchObjective, TorchFigure | { unavailable: string }>;
  const ratio = (objective: BenchObjective, x: number) => {
    const t = torch[objective];
    return 'tokens_per_s' in t ? x / t.tokens_per_s : null;
  };
  if (backends.includes('wasm')) {
    for (const objective of ['lm', 'ava-p'] as const) {
      const single = results.find((r) => r.backend === 'wasm' && r.objective === objective);
      if (single) figures.push({ objective, setup: '1 process', tokens_per_s: single.tokens_per_s, ratio_to_pytorch: ratio(objective, single.tokens_per_s), load: single.load });
      if (values['no-parallel']) continue;
      const grid = await twoProcesses(objective, steps);
      figures.push({ objective, setup: '2 processes (grid)', tokens_per_s: grid.tokens_per_s, ratio_to_pytorch: ratio(objective, grid.tokens_per_s), load: grid.load });
      try {
        const dp = await runWorker('wasm', objective, steps, 2);
        results.push(dp);
        figures.push({ objective, setup: '2 workers (data parallel)', tokens_per_s: dp.tokens_per_s, ratio_to_pytorch: ratio(objective, dp.tokens_per_s), load: dp.load });
      } catch (e) {
        console.log(`data parallel ${objective}: not measured (${(e as Error).message}; see the error above)`);
      }
    }
  }
  for (const objective of ['lm', 'ava-p'] as const) {
    const t = torch[objective];
    if ('tokens_per_s' in t) console.log(`pytorch    ${objective.padEnd(6)} ${fmt(t.tokens_per_s)} tokens/s  (torch ${t.torch}, ${t.threads}; the faster thread setting)  ${loadText(t.load)}`);
    else console.log(`pytorch    ${objective.padEnd(6)} ${t.unavailable}`);
  }
  console.log('\nwasm, one core and both cores' + (figures.some((f) => f.ratio_to_pytorch !== null) ? ' (ratio to PyTorch on the same step)' : ''));
  for (const f of figures) {
    console.log(`  ${f.objective.padEnd(6)} ${f.setup.padEnd(26)} ${fmt(f.tokens_per_s)} tokens/s${f.ratio_to_pytorch === null ? '' : `  ${f.ratio_to_pytorch.toFixed(3)}x`}  ${loadText(f.load)}`);
  }
  const generation: GenerationResult[] = [];
  if (!values['no-generation']) {
    console.log(`\nsampling: ${GEN_PROMPTS} prompts of ${GEN_PROMPT_LEN} tokens, batched, up to the ${BENCH.context}-token context (new tokens per second)`);
    for (const backend of backends) {
      const pair: GenerationResult[] = [];
      for (const cache of [true, false]) {
        const g = await runGenerationWorker(backend, cache);
        pair.push(g);
        generation.push(g);
        console.log(`  ${g.backend.padEnd(10)} ${(cache ? 'KV cache' : 'no cache').padEnd(9)} ${fmt(g.tokens_per_s)} tokens/s  (${g.new_tokens} tokens in ${g.seconds.toFixed(2)} s; tensors leaked ${g.tensors_leaked})  ${loadText(g.load)}`);
      }
      console.log(`  ${pair[0].backend.padEnd(10)} the cache is ${(pair[0].tokens_per_s / pair[1].tokens_per_s).toFixed(2)}x faster`);
    }
  }
  const recipes = backends.includes('wasm') ? await compareRecipes(steps) : null;
  const flat = results.every((r) => r.tensors_at_end === r.tensors_after_warmup) && generation.every((g) => g.tensors_leaked === 0);
  console.log(`tensor count flat across steps: ${flat ? 'yes' : 'NO'}`);
  const out = join(benchDir(), 'results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), config: BENCH, steps, results, figures, torch, generation, recipes, tensor_count_flat: flat }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
