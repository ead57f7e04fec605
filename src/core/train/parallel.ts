/**
 * Data parallelism inside one run (`train.workers: N`, N ≥ 2). The wasm backend runs on one
 * thread under Node, so a second core is only reachable from another thread with its own
 * TensorFlow.js engine (docs/offline-environment.md).
 *
 * Each step, the batch's rows are cut into N contiguous shards. The main thread computes shard 0
 * on its own model; worker thread k computes shard k on a replica. Each shard's loss is its exact
 * share of the full-batch loss, Σ_terms share·term with share = max(n_k,1)/max(N,1)
 * (objectives/shares.ts: per-sequence means count rows, token means count unmasked transitions),
 * so the shards' gradients add up to the full-batch gradient. The main thread sums them in shard
 * order (deterministic), applies one AdamW update (global-norm clipping included) and publishes
 * the new weights; every replica copies them before its next shard, so all replicas hold the same
 * weights bit for bit. Same seed and same N give the same metrics; N = 2 and N = 1 agree to float
 * rounding. Dropout, when on, draws per shard from a seed derived from (seed, shard).
 *
 * Weights and gradients travel through SharedArrayBuffers (one weights buffer, one gradient
 * buffer per worker); control messages through postMessage. A worker that fails or exits fails
 * the run with an AvaError naming it; `dispose` stops every worker.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Worker, type MessagePort } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Phase } from '../../protocol/events.js';
import { AvaError } from '../errors.js';
import type { RunConfig } from '../experiment/config.js';
import { initBackend, type EngineInfo } from '../engine/backend.js';
import type { AdamW } from '../engine/optim.js';
import { deriveSeed } from '../engine/random.js';
import { TQR } from '../model/tqr.js';
import { toSeqBatch, type PackedSeqs } from '../data/batch.js';
import type { PairBatch, SeqBatch } from '../data/types.js';
import { termShares } from '../objectives/shares.js';
import { disposePairBatch, disposeSeqBatch } from '../objectives/batching.js';
import type { LossResult } from '../objectives/common.js';
import type { Models } from '../objectives/models.js';
import { headsFor, objectiveLoss, pretrainLoss, termCounts, type TermSource } from '../objectives/table.js';

type Batch = SeqBatch | PairBatch;
type LossFn = (m: Models, b: Batch) => LossResult;

/** The loss a phase minimises: the LM warm-start, then the configured objective. */
export function phaseLoss(phase: Phase, run: RunConfig): LossFn {
  return phase === 'pretrain' ? (m, b) => pretrainLoss(m, b as SeqBatch) : (m, b) => objectiveLoss(m, b, run);
}

function termSource(phase: Phase, run: RunConfig): TermSource {
  return phase === 'pretrain' ? 'lm' : run.objective.kind;
}

// ---- shards ----------------------------------------------------------------------------------

/** A batch as plain arrays (what crosses to a worker). */
type PackedBatch = { seq: PackedSeqs } | { chosen: PackedSeqs; rejected: PackedSeqs };

/** Row counts of N contiguous shards of B rows, as even as possible (the first B mod N get one more). */
export function shardSizes(rows: number, shards: number): number[] {
  return Array.from({ length: shards }, (_, k) => Math.floor(rows / shards) + (k < rows % shards ? 1 : 0));
}

function packTensors(b: SeqBatch): PackedSeqs {
  const [B, T] = b.ids.shape;
  return { B, T, ids: b.ids.dataSync() as Int32Array, valid: b.valid.dataSync() as Float32Array, resp: b.resp.dataSync() as Float32Array, lengths: b.lengths };
}

function sliceRows(p: PackedSeqs, start: number, rows: number): PackedSeqs {
  const [from, to] = [start * p.T, (start + rows) * p.T];
  return { B: rows, T: p.T, ids: p.ids.slice(from, to), valid: p.valid.slice(from, to), resp: p.resp.slice(from, to), lengths: p.lengths.slice(start, start + rows) };
}

/** The batch cut into contiguous row shards (empty shards left out of the list: `null`). */
function shardBatch(batch: Batch, sizes: number[]): (PackedBatch | null)[] {
  const whole: PackedBatch = 'chosen' in batch ? { chosen: packTensors(batch.chosen), rejected: packTensors(batch.rejected) } : { seq: packTensors(batch) };
  let start = 0;
  return sizes.map((rows) => {
    const at = start;
    start += rows;
    if (rows === 0) return null;
    return 'seq' in whole ? { seq: sliceRows(whole.seq, at, rows) } : { chosen: sliceRows(whole.chosen, at, rows), rejected: sliceRows(whole.rejected, at, rows) };
  });
}

function unpack(p: PackedBatch): Batch {
  return 'seq' in p ? toSeqBatch(p.seq) : { chosen: toSeqBatch(p.chosen), rejected: toSeqBatch(p.rejected) };
}

function disposeBatch(b: Batch): void {
  'chosen' in b ? disposePairBatch(b) : disposeSeqBatch(b);
}

// ---- one replica's shard -------------------------------------------------------------------

/** Where each trainable variable lives in the flat weight and gradient buffers (creation order). */
interface ParamLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  total: number;
}

function paramLayout(vars: Map<string, tf.Variable>): ParamLayout {
  const layout: ParamLayout = { names: [], shapes: [], offsets: [], total: 0 };
  for (const [name, v] of vars) {
    layout.names.push(name);
    layout.shapes.push(v.shape);
    layout.offsets.push(layout.total);
    layout.total += v.size;
  }
  return layout;
}

export interface ShardResult {
  /** The shard's scaled terms and `loss`, their sum. */
  values: Record<string, number>;
  /** Gradients by readable variable name (variables the loss does not reach have none). */
  grads: Record<string, tf.Tensor>;
}

/**
 * Gradients of a shard's share of the loss, Σ_terms share·term (objectives/shares.ts). The
 * objectives' loss is the sum of their terms, so scaling term by term is exact. Diagnostics
 * (per-row means) are scaled the same way, so the shards' values add up to the full batch's.
 */
export function shardGradients(models: Models, batch: Batch, lossFn: LossFn, shares: Record<string, number>): ShardResult {
  return tf.tidy(() => {
    const vars = models.policy.variables();
    const readable = new Map([...vars].map(([name, v]) => [v.name, name]));
    const terms: Record<string, tf.Scalar> = {};
    const scaled = (term: string, t: tf.Scalar): tf.Scalar => {
      const share = shares[term];
      if (share === undefined) throw new Error(`data parallel: no shard share for the logged value '${term}' (objectives/shares.ts)`);
      return (terms[term] = tf.keep(tf.mul(t, share)));
    };
    const { value, grads } = tf.variableGrads(() => {
      const result = lossFn(models, batch);
      for (const [name, t] of Object.entries(result.diagnostics ?? {})) scaled(name, t); // logged, not differentiated
      return tf.addN(Object.entries(result.terms).map(([term, t]) => scaled(term, t))) as tf.Scalar;
    }, [...vars.values()]);
    const values: Record<string, number> = { loss: value.dataSync()[0] };
    for (const [term, t] of Object.entries(terms)) values[term] = t.dataSync()[0];
    tf.dispose(Object.values(terms)); // kept out of variableGrads' scope to be read
    const byName: Record<string, tf.Tensor> = {};
    for (const [engineName, g] of Object.entries(grads)) byName[readable.get(engineName)!] = g;
    return { values, grads: byName };
  }) as unknown as ShardResult;
}

// ---- messages --------------------------------------------------------------------------------

interface WorkerInit {
  run: RunConfig;
  vocabSize: number;
  backend: EngineInfo['backend'];
  /** 1..N−1 (the main thread is shard 0). */
  shard: number;
  layout: ParamLayout;
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** DPO's frozen reference, packed like the weights; null otherwise. */
  reference: Float32Array | null;
  /** false: the reference is frozen later, from the published weights of the first objective step (after the LM warm-up). */
  referenceFrozen: boolean;
}

interface StepRequest {
  type: 'step';
  id: number;
  phase: Phase;
  batch: PackedBatch;
  shares: Record<string, number>;
}

type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'done'; id: number; values: Record<string, number>; present: boolean[] }
  | { type: 'failed'; id: number; message: string };

// ---- the worker side -----------------------------------------------------------------------

function loadWeights(vars: Map<string, tf.Variable>, layout: ParamLayout, from: Float32Array): void {
  layout.names.forEach((name, i) => {
    const v = vars.get(name)!;
    // slice() copies: the cpu backend would otherwise keep a view of the shared buffer.
    tf.tidy(() => v.assign(tf.tensor(from.slice(layout.offsets[i], layout.offsets[i] + v.size), v.shape)));
  });
}

/** A worker's model replica (and DPO reference), computing the gradient of one shard at a time. */
class Replica {
  private readonly models: Models;
  private readonly vars: Map<string, tf.Variable>;
  private readonly weights: Float32Array;
  private readonly grads: Float32Array;
  private referenceFrozen: boolean;

  constructor(private readonly init: WorkerInit) {
    const { run, vocabSize, layout } = init;
    const heads = headsFor(run.objective.kind, run.model);
    const policy = new TQR(run.model, vocabSize, { seed: deriveSeed(run.seed, 'shard', init.shard), heads });
    this.vars = policy.variables();
    const mismatch = layout.names.find((name, i) => !tf.util.arraysEqual(this.vars.get(name)?.shape ?? [], layout.shapes[i]));
    if (mismatch !== undefined || this.vars.size !== layout.names.length) throw new Error(`replica parameters differ from the main model's (${mismatch ?? 'count'})`);
    let reference: TQR | null = null;
    if (init.reference) {
      reference = new TQR(run.model, vocabSize, { seed: run.seed, heads });
      loadWeights(reference.variables(), layout, init.reference);
    }
    this.models = { policy, reference };
    this.weights = new Float32Array(init.weights);
    this.grads = new Float32Array(init.grads);
    this.referenceFrozen = init.referenceFrozen;
  }

  step(req: StepRequest): WorkerReply {
    loadWeights(this.vars, this.init.layout, this.weights);
    if (req.phase === 'train' && this.models.reference && !this.referenceFrozen) {
      // The published weights of the first objective step are the warmed-up policy: the main thread froze the same (spec §6.3).
      loadWeights(this.models.reference.variables(), this.init.layout, this.weights);
      this.referenceFrozen = true;
    }
    const batch = unpack(req.batch);
    try {
      const { values, grads } = shardGradients(this.models, batch, phaseLoss(req.phase, this.init.run), req.shares);
      const { names, offsets } = this.init.layout;
      const present = names.map((name, i) => {
        const g = grads[name];
        if (g) this.grads.set(g.dataSync() as Float32Array, offsets[i]);
        return g !== undefined;
      });
      tf.dispose(Object.values(grads));
      return { type: 'done', id: req.id, values, present };
    } finally {
      disposeBatch(batch);
    }
  }

  dispose(): void {
    this.models.policy.dispose();
    this.models.reference?.dispose();
  }
}

/** The worker thread's loop (entry: ./parallel-worker.ts): one shard per `step` message until `stop`. */
export async function serveReplica(port: MessagePort, init: WorkerInit): Promise<void> {
  const engine = await initBackend(init.backend, () => {});
  const replica = new Replica(init);
  port.on('message', (msg: StepRequest | { type: 'stop' }) => {
    if (msg.type === 'stop') {
      replica.dispose();
      port.close();
      return;
    }
    let reply: WorkerReply;
    try {
      reply = replica.step(msg);
    } catch (e) {
      reply = { type: 'failed', id: msg.id, message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ type: 'ready', backend: engine.backend } satisfies WorkerReply);
}

// ---- the main side ---------------------------------------------------------------------------

/**
 * The ES-module entry of `tsx/esm/api`, which registers tsx's TypeScript hooks in a new thread
 * (`--import tsx` does not reach worker threads on Node 20). Read from tsx's export map:
 * `require.resolve` would give its CommonJS build.
 */
function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

/** How to start a worker thread: the bundled worker next to the bundle, or the TypeScript source through tsx. */
function spawnWorker(init: WorkerInit): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const entry = pathToFileURL(join(dirname(here), 'parallel-worker.ts')).href;
    const boot = `import(${JSON.stringify(tsxEsmApi(here))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData: init, execArgv: [] });
  }
  const entry = join(dirname(here), 'parallel-worker.cjs');
  if (!existsSync(entry)) {
    throw new AvaError('backend', `train.workers > 1 needs ${entry} beside the backend bundle; rebuild with \`npm run build\``, { key: 'train.workers' });
  }
  return new Worker(entry, { workerData: init, execArgv: [] });
}

interface Pending {
  resolve(reply: WorkerReply): void;
  reject(error: Error): void;
}

/** One worker thread and the replies it owes. */
class WorkerHandle {
  readonly grads: Float32Array;
  private readonly pending = new Map<number, Pending>();
  private failure: AvaError | null = null;
  private stopping = false;
  private readonly ready: Promise<WorkerReply>;

  constructor(
    readonly shard: number,
    private readonly workers: number,
    private readonly worker: Worker,
    gradBuffer: SharedArrayBuffer,
  ) {
    this.grads = new Float32Array(gradBuffer);
    this.ready = this.expect(-1);
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (e: Error) => this.fail(`crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!this.stopping) this.fail(`exited unexpectedly (code ${code})`);
    });
  }

  async waitReady(backend: string): Promise<void> {
    const reply = await this.ready;
    if (reply.type === 'ready' && reply.backend !== backend) {
      throw this.error(`runs on the ${reply.backend} backend, not ${backend} like the main thread`);
    }
  }

  request(req: StepRequest): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = this.expect(req.id);
    this.worker.postMessage(req);
    return reply;
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.worker.postMessage({ type: 'stop' });
    void this.worker.terminate();
    this.rejectAll(this.error('was stopped'));
  }

  private expect(id: number): Promise<WorkerReply> {
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private settle(reply: WorkerReply): void {
    const id = reply.type === 'ready' ? -1 : reply.id;
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (reply.type === 'failed') p?.reject(this.error(`failed: ${reply.message}`));
    else p?.resolve(reply);
  }

  private fail(why: string): void {
    this.failure ??= this.error(why);
    this.rejectAll(this.failure);
  }

  private rejectAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private error(why: string): AvaError {
    return new AvaError('backend', `data-parallel worker ${this.shard} of ${this.workers - 1} ${why}`, { key: 'train.workers' });
  }
}

export interface DataParallelOptions {
  run: RunConfig;
  vocabSize: number;
  engine: EngineInfo;
  models: Models;
  optimizer: AdamW;
  /** false while the reference still has to be frozen at the first objective step (default true). */
  referenceFrozen?: boolean;
}

/**
 * A data-parallel trainer for `run.train.workers` > 1, or null (one process): with one worker,
 * and with the native `tensorflow` backend, which already uses every core (and whose addon is
 * not meant for worker threads).
 */
export async function startDataParallel(opts: DataParallelOptions, log: (level: 'info' | 'warn', message: string) => void): Promise<DataParallel | null> {
  const n = opts.run.train.workers;
  if (n <= 1) return null;
  if (opts.engine.backend === 'tensorflow') {
    log('info', `train.workers: ${n} ignored: the tensorflow backend already uses every core`);
    return null;
  }
  const parallel = await DataParallel.start(opts);
  log('info', `data parallel: ${n} shards per batch (main thread + ${n - 1} worker thread${n > 2 ? 's' : ''}, ${opts.engine.backend})`);
  return parallel;
}

/** The main thread's side of a data-parallel run: its own shard, the workers, the summation and the update. */
export class DataParallel {
  private nextId = 0;
  private stopped = false;
  private readonly weights: Float32Array;

  private constructor(
    private readonly opts: DataParallelOptions,
    private readonly layout: ParamLayout,
    weightBuffer: SharedArrayBuffer,
    private readonly workers: WorkerHandle[],
  ) {
    this.weights = new Float32Array(weightBuffer);
  }

  /** Starts `run.train.workers − 1` worker threads on the main thread's backend and waits until each is ready. */
  static async start(opts: DataParallelOptions): Promise<DataParallel> {
    const n = opts.run.train.workers;
    const layout = paramLayout(opts.models.policy.variables());
    const bytes = layout.total * Float32Array.BYTES_PER_ELEMENT;
    const weights = new SharedArrayBuffer(bytes);
    const reference = opts.models.reference ? writeWeights(opts.models.reference.variables(), layout, new Float32Array(layout.total)) : null;
    const handles: WorkerHandle[] = [];
    try {
      for (let shard = 1; shard < n; shard++) {
        const grads = new SharedArrayBuffer(bytes);
        const init: WorkerInit = { run: opts.run, vocabSize: opts.vocabSize, backend: opts.engine.backend, shard, layout, weights, grads, reference, referenceFrozen: opts.referenceFrozen ?? true };
        handles.push(new WorkerHandle(shard, n, spawnWorker(init), grads));
      }
      await Promise.all(handles.map((h) => h.waitReady(opts.engine.backend)));
    } catch (e) {
      handles.forEach((h) => h.stop());
      throw e;
    }
    return new DataParallel(opts, layout, weights, handles);
  }

  /**
   * One optimiser step on `batch`, computed across the workers. Returns the loss, its terms,
   * grad_norm and lr, as the single-process step does; applies no update when the loss is not finite.
   */
  async step(batch: Batch, phase: Phase): Promise<Record<string, number>> {
    const { values, grads } = await this.gradients(batch, phase);
    try {
      if (!Number.isFinite(values.loss)) return values;
      const report = tf.tidy(() => {
        const { gradNorm, lr } = this.opts.optimizer.applyGradients(grads);
        return { grad_norm: gradNorm, lr };
      });
      return { ...values, ...report };
    } finally {
      tf.dispose(Object.values(grads));
    }
  }

  /**
   * The full-batch loss terms and gradient (keyed by engine variable name, as AdamW takes them),
   * summed over the shards in shard order. The caller disposes the gradients.
   */
  async gradients(batch: Batch, phase: Phase): Promise<{ values: Record<string, number>; grads: tf.NamedTensorMap }> {
    if (this.stopped) throw new AvaError('backend', 'data parallel: the worker threads were stopped', { key: 'train.workers' });
    const { run, models } = this.opts;
    const rows = 'chosen' in batch ? batch.chosen.lengths.length : batch.lengths.length;
    const shards = shardBatch(batch, shardSizes(rows, this.workers.length + 1));
    const shares = this.sharesOf(shards, termSource(phase, run));
    writeWeights(models.policy.variables(), this.layout, this.weights);
    const id = this.nextId++;
    const replies = Promise.all(this.workers.map((w, i) => (shards[i + 1] ? w.request({ type: 'step', id, phase, batch: shards[i + 1]!, shares: shares[i + 1]! }) : null)));
    let own: ShardResult | null;
    try {
      own = shards[0] ? this.ownShard(shards[0], phaseLoss(phase, run), shares[0]!) : null;
    } catch (e) {
      replies.catch(() => undefined); // the run fails with the main thread's error
      throw e;
    }
    try {
      const done = await replies;
      const values = sumValues([own?.values ?? null, ...done.map((r) => (r?.type === 'done' ? r.values : null))]);
      return { values, grads: tf.tidy(() => this.summedGradients(own?.grads ?? {}, done)) };
    } finally {
      if (own) tf.dispose(Object.values(own.grads));
    }
  }

  /** Stops every worker (idempotent). */
  dispose(): void {
    this.stopped = true;
    this.workers.forEach((w) => w.stop());
  }

  private ownShard(shard: PackedBatch, lossFn: LossFn, shares: Record<string, number>): ShardResult {
    const batch = unpack(shard);
    try {
      return shardGradients(this.opts.models, batch, lossFn, shares);
    } finally {
      disposeBatch(batch);
    }
  }

  /** Each shard's term shares (objectives/shares.ts); null for an empty shard. */
  private sharesOf(shards: (PackedBatch | null)[], source: TermSource): (Record<string, number> | null)[] {
    const { model, objective } = this.opts.run;
    const counts = shards.map((s) => {
      if (!s) return null;
      const batch = unpack(s);
      try {
        return termCounts(source, batch, model, objective);
      } finally {
        disposeBatch(batch);
      }
    });
    const whole: Record<string, number> = {};
    for (const c of counts) for (const [term, n] of Object.entries(c ?? {})) whole[term] = (whole[term] ?? 0) + n;
    return counts.map((c) => (c ? termShares(c, whole) : null));
  }

  /** Σ over shards in shard order, keyed by the engine names AdamW expects; variables no shard reached stay out. */
  private summedGradients(own: Record<string, tf.Tensor>, replies: (WorkerReply | null)[]): tf.NamedTensorMap {
    const vars = this.opts.models.policy.variables();
    const sums: tf.NamedTensorMap = {};
    this.layout.names.forEach((name, i) => {
      const [offset, shape] = [this.layout.offsets[i], this.layout.shapes[i]];
      const size = shape.reduce((a, d) => a * d, 1);
      let sum: tf.Tensor | null = own[name] ? tf.clone(own[name]) : null; // a clone: the caller disposes `own`
      replies.forEach((r, k) => {
        if (r?.type !== 'done' || !r.present[i]) return;
        const g = tf.tensor(this.workers[k].grads.slice(offset, offset + size), shape);
        sum = sum === null ? g : tf.add(sum, g);
      });
      if (sum !== null) sums[vars.get(name)!.name] = sum;
    });
    return sums;
  }
}

/** Copies variables into a flat buffer laid out by `layout`. */
function writeWeights(vars: Map<string, tf.Variable>, layout: ParamLayout, into: Float32Array): Float32Array {
  layout.names.forEach((name, i) => into.set(vars.get(name)!.dataSync() as Float32Array, layout.offsets[i]));
  return into;
}

/** Σ of the shards' values in shard order (`loss` and each term). */
function sumValues(parts: (Record<string, number> | null)[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p ?? {})) total[k] = (total[k] ?? 0) + v;
  return total;
}
