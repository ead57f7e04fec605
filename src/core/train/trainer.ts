/**
 * The training loop of one run (one grid cell): optional LM warm-start, then the
 * configured objective, with metrics appended to `metrics.jsonl` every logged step,
 * periodic evaluation and checkpoints, a clean stop on cancellation (checkpoint + `stopped`),
 * exact resume from the latest checkpoint, and a diagnosis instead of a NaN.
 */
import { hostname } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { dirname, join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import type { EvalSummary, EventBody, MetricRecord, Phase } from '../../protocol/events.js';
import { AvaError } from '../errors.js';
import type { RunConfig } from '../experiment/config.js';
import { afdOn, resolvedConfigYaml } from '../experiment/grid.js';
import type { EngineInfo } from '../engine/backend.js';
import { AdamW } from '../engine/optim.js';
import { TQR } from '../model/tqr.js';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.js';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { BatchSampler, collatePairs, collateSeqs } from '../data/batch.js';
import type { PairBatch, SeqBatch } from '../data/types.js';
import { JsonlAppender, readJsonFile, readJsonlFile, writeJsonAtomic, writeTextAtomic } from '../run/files.js';
import {
  CHECKPOINTS_DIR,
  LATEST_CHECKPOINT,
  RUN_CONFIG,
  RUN_ENV,
  RUN_EVAL,
  RUN_EVALS,
  RUN_EVAL_PAIRS,
  type EvalPairRow,
  RUN_METRICS,
  RUN_TOKEN_REWARDS,
  checkpointDirName,
  type RunStatusFile,
} from '../run/layout.js';
import { readStatus, writeStatus } from '../run/status.js';
import { CollapseMonitor } from './alarms.js';
import { termGradNorms } from './termGrads.js';
import { bestPossibleAccuracy, scorePairs, summarise } from '../eval/evaluate.js';
import { readDemos, readPairs } from '../eval/readout.js';
import { tokenAttribution } from '../eval/attribution.js';
import { prepareData, type DataFiles, type PreparedData } from './data.js';
import { ensureAfdPairs, resolveInitFrom } from './cellInputs.js';
import { disposePairBatch, disposeSeqBatch } from '../objectives/batching.js';
import type { LossResult } from '../objectives/common.js';
import { headsFor, hasTokenRewards, isPairwise, objectiveDef } from '../objectives/table.js';
import { environmentInfo } from './environment.js';
import { packWeights, splitWeights, type Models } from '../objectives/models.js';
import { loadInitWeights } from './init.js';
import { phaseLoss, startDataParallel, type DataParallel } from './parallel.js';

export interface TrainHooks {
  emit(event: EventBody): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** Aborted by SIGINT/SIGTERM or the UI's Stop: the run checkpoints and ends `stopped`. */
  signal: AbortSignal;
}

export interface TrainOptions {
  run: RunConfig;
  runDir: string;
  /** Where built-in task data is generated (shared by the cells of a grid). */
  dataRoot: string;
  /** The grid folder, where a cell finds the cells it depends on (`cell:<variant>`, `data.afd`); default: dataRoot's parent. */
  gridDir?: string;
  engine: EngineInfo;
  resume: boolean;
  hooks: TrainHooks;
}

export interface TrainResult {
  status: 'finished' | 'stopped';
  summary: EvalSummary | null;
}

interface LatestCheckpoint {
  step: number;
  path: string;
}

interface CheckpointMeta {
  step: number;
  phase: Phase;
  sampler: ReturnType<BatchSampler['state']>;
  vocab_size: number;
  objective: string;
  config: RunConfig;
}

function countTokens(batch: SeqBatch | PairBatch): number {
  const sum = (b: SeqBatch) => b.lengths.reduce((a, n) => a + n, 0);
  return 'chosen' in batch ? sum(batch.chosen) + sum(batch.rejected) : sum(batch);
}

/**
 * One optimiser step. Returns the loss terms and diagnostics as numbers; applies no update
 * when the loss is not finite.
 */
function trainStep(models: Models, optimizer: AdamW, batch: SeqBatch | PairBatch, lossFn: (m: Models, b: SeqBatch | PairBatch) => LossResult): Record<string, number> {
  return tf.tidy(() => {
    const logged: Record<string, tf.Scalar> = {}; // terms and diagnostics
    const { value, grads } = tf.variableGrads(() => {
      const r = lossFn(models, batch);
      for (const [k, t] of Object.entries({ ...r.terms, ...r.diagnostics })) logged[k] = tf.keep(t);
      return r.loss;
    }, [...models.policy.variables().values()]);
    const values: Record<string, number> = { loss: value.dataSync()[0] };
    for (const [k, t] of Object.entries(logged)) values[k] = t.dataSync()[0];
    tf.dispose(Object.values(logged));
    if (Number.isFinite(values.loss)) {
      const report = optimizer.applyGradients(grads);
      values.grad_norm = report.gradNorm;
      values.lr = report.lr;
    }
    return values;
  });
}

function diagnoseNonFinite(step: number, phase: Phase, values: Record<string, number>, run: RunConfig): AvaError {
  const bad = Object.entries(values).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k}=${v}`);
  const hints = [`lower train.lr (now ${run.train.lr})`, 'keep train.grad_clip > 0'];
  hints.push(...objectiveDef(run.objective.kind).nonFiniteHints(run));
  return new AvaError('numeric', `non-finite loss at ${phase} step ${step} (${bad.join(', ')}); the update was not applied. Try: ${hints.join('; ')}`, { key: 'train' });
}

export class Trainer {
  private readonly run: RunConfig;
  private readonly dir: string;
  private readonly hooks: TrainHooks;
  /** Opened after set-up: resuming first rewrites the file (dropping lines past the checkpoint). */
  private metrics!: JsonlAppender;
  private readonly started = Date.now();
  private models!: Models;
  private optimizer!: AdamW;
  private data!: PreparedData;
  /** The checkpoint folder `model.init_from` named (a `cell:<variant>` resolved); recorded in env.json. */
  private initFrom: string | null = null;
  private tokenizer!: Tokenizer;
  /** `train.workers` > 1: the worker threads that compute the other shards of each batch. */
  private parallel: DataParallel | null = null;
  private status: RunStatusFile;
  /** Collapse alarms (alarms.ts), fed every logged step. */
  private monitor!: CollapseMonitor;

  /** On resume: the alarms status.json held before this process rewrites it. */
  private readonly previousAlarms: RunStatusFile['alarms'];

  constructor(private readonly opts: TrainOptions) {
    this.run = opts.run;
    this.dir = opts.runDir;
    this.hooks = opts.hooks;
    this.previousAlarms = opts.resume ? readStatus(opts.runDir)?.alarms : undefined;
    this.status = {
      status: 'running',
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      updated: new Date().toISOString(),
      step: 0,
      total_steps: this.totalSteps(),
    };
  }

  private totalSteps(): number {
    return this.run.train.pretrain_steps + this.run.train.steps;
  }

  private setStatus(patch: Partial<RunStatusFile>): void {
    this.status = { ...this.status, ...patch };
    writeStatus(this.dir, this.status);
  }

  private logMetric(phase: Phase, step: number, values: Record<string, number>): void {
    const record: MetricRecord = { step, phase, time: (Date.now() - this.started) / 1000, values };
    this.metrics.append(record);
    this.hooks.emit({ type: 'metrics', run_dir: this.dir, record });
    const raised = this.monitor.observe(record);
    if (raised.length) {
      this.setStatus({ alarms: this.monitor.alarms() });
      for (const alarm of raised) this.hooks.emit({ type: 'alarm', run_dir: this.dir, alarm });
    }
  }

  /** Build (or restore) the model, optimiser and data; returns the step to continue from. */
  private async setUp(): Promise<{ step: number; sampler: BatchSampler }> {
    const { run } = this;
    this.monitor = new CollapseMonitor(run);
    const latest = this.opts.resume ? readJsonFile<LatestCheckpoint>(join(this.dir, CHECKPOINTS_DIR, LATEST_CHECKPOINT)) : null;
    const ckpt = latest ? await loadCheckpoint(join(this.dir, CHECKPOINTS_DIR, latest.path)) : null;
    this.tokenizer = ckpt ? tokenizerFromJSON(ckpt.tokenizer as Parameters<typeof tokenizerFromJSON>[0]) : (undefined as unknown as Tokenizer);
    const gridDir = this.opts.gridDir ?? dirname(this.opts.dataRoot);
    const afd = afdOn(run.data.afd) ? (files: DataFiles) => ensureAfdPairs(run, this.dir, gridDir, files, this.hooks.signal, (m) => this.hooks.log('info', m)) : undefined;
    this.data = await prepareData(run, this.opts.dataRoot, ckpt ? this.tokenizer : undefined, afd);
    this.tokenizer = this.data.tokenizer;
    const { badLines, tooLong } = this.data.skipped;
    if (badLines || tooLong) this.hooks.log('warn', `${this.dir}: skipped ${badLines} malformed line(s) and ${tooLong} over-long example(s) (data.on_bad_line, data.truncation)`);

    const heads = headsFor(run.objective.kind, run.model);
    const policy = new TQR(run.model, this.tokenizer.vocabSize, { seed: run.seed, heads });
    const initFrom = resolveInitFrom(run, gridDir);
    this.initFrom = initFrom;
    if (initFrom && !ckpt) {
      const init = await loadInitWeights(initFrom, run.model, this.tokenizer);
      policy.loadWeights(init, { strict: false });
      tf.dispose([...init.values()]);
    }
    const saved = ckpt ? splitWeights(ckpt.weights) : null;
    if (saved) policy.loadWeights(saved.policy);
    let reference: TQR | null = null;
    if (objectiveDef(run.objective.kind).reference) {
      // The frozen reference is the policy as the objective starts (spec §6.3), i.e. after the LM
      // warm-up: `freezeReference` copies it at that step. After a resume, the saved reference.
      reference = new TQR(run.model, this.tokenizer.vocabSize, { seed: run.seed, heads });
      reference.loadWeights(saved?.reference ?? new Map<string, tf.Tensor>(policy.variables()));
    }
    this.models = { policy, reference };
    this.optimizer = new AdamW(policy.variables(), {
      lr: run.train.lr,
      beta1: run.train.adam_beta1,
      beta2: run.train.adam_beta2,
      weightDecay: run.train.weight_decay,
      gradClip: run.train.grad_clip,
      warmupSteps: run.train.warmup_steps,
      totalSteps: this.totalSteps(),
      schedule: run.train.lr_schedule,
    });
    const n = isPairwise(run.objective.kind) ? this.data.trainPairs.length : this.data.trainDemos.length;
    if (ckpt) {
      this.optimizer.setState(ckpt.optimizer as Parameters<AdamW['setState']>[0]);
      const meta = ckpt.meta as unknown as CheckpointMeta;
      tf.dispose([...ckpt.weights.values()]);
      this.truncateMetricsAfter(meta.step);
      const kept = (this.previousAlarms ?? []).filter((a) => a.step <= meta.step);
      this.monitor = new CollapseMonitor(run, kept);
      if (kept.length) this.status.alarms = kept;
      this.hooks.log('info', `${this.dir}: resumed from step ${meta.step}`);
      return { step: meta.step, sampler: BatchSampler.fromState(n, run.train.batch_size, meta.sampler) };
    }
    return { step: 0, sampler: new BatchSampler(n, run.train.batch_size, run.seed) };
  }

  /** Lines logged after the checkpoint we resume from would be logged again: drop them. */
  private truncateMetricsAfter(step: number): void {
    const path = join(this.dir, RUN_METRICS);
    const kept = readJsonlFile<MetricRecord>(path).filter((r) => r.step <= step);
    writeTextAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  private async saveCheckpoint(step: number, phase: Phase, sampler: BatchSampler): Promise<void> {
    const name = checkpointDirName(step);
    const path = join(this.dir, CHECKPOINTS_DIR, name);
    const meta: CheckpointMeta = { step, phase, sampler: sampler.state(), vocab_size: this.tokenizer.vocabSize, objective: this.run.objective.kind, config: this.run };
    await saveCheckpoint(path, {
      weights: packWeights(this.models),
      optimizer: this.optimizer.getState(),
      meta,
      tokenizer: this.tokenizer.toJSON(),
    });
    const latest = readJsonFile<LatestCheckpoint>(join(this.dir, CHECKPOINTS_DIR, LATEST_CHECKPOINT));
    writeJsonAtomic(join(this.dir, CHECKPOINTS_DIR, LATEST_CHECKPOINT), { step, path: name });
    // Keep the newest two checkpoints: the one just written and the one before it.
    if (latest && latest.path !== name) {
      const older = readJsonFile<{ previous?: string }>(join(this.dir, CHECKPOINTS_DIR, 'previous.json'))?.previous;
      if (older && older !== latest.path && existsSync(join(this.dir, CHECKPOINTS_DIR, older))) rmSync(join(this.dir, CHECKPOINTS_DIR, older), { recursive: true, force: true });
      writeJsonAtomic(join(this.dir, CHECKPOINTS_DIR, 'previous.json'), { previous: latest.path });
    }
    this.metrics.sync();
    this.hooks.emit({ type: 'checkpoint', run_dir: this.dir, step, path });
  }

  /**
   * The batch of a step. A pairwise objective's LM warm-up reads single sequences from its pairs:
   * `train.pretrain_data: both` alternates chosen and rejected halves (row r of step s takes the
   * chosen half when r + s is even), so the warm-up never sees which half was preferred;
   * `chosen` reads the chosen halves only (the preference leaks into the LM before the objective).
   */
  private nextBatch(sampler: BatchSampler, phase: Phase, step: number): SeqBatch | PairBatch {
    const idx = sampler.next();
    const pairwise = isPairwise(this.run.objective.kind);
    if (pairwise && phase === 'train') return collatePairs(idx.map((i) => this.data.trainPairs[i]));
    if (!pairwise) return collateSeqs(idx.map((i) => this.data.trainDemos[i].seq));
    const both = this.run.train.pretrain_data === 'both';
    return collateSeqs(idx.map((i, r) => (both && (r + step) % 2 === 1 ? this.data.trainPairs[i].rejected : this.data.trainPairs[i].chosen)));
  }

  /**
   * spec §6.3: the reference is a frozen copy of the policy as the objective starts. With an LM
   * warm-up that is the warmed-up policy, copied once at the first objective step (a resume from
   * a later checkpoint restores the saved reference instead).
   */
  private freezeReference(): void {
    const { reference, policy } = this.models;
    if (!reference) return;
    reference.loadWeights(new Map<string, tf.Tensor>(policy.variables()));
  }

  private bestPossible(): number | undefined {
    return bestPossibleAccuracy(this.data.evalPairs) ?? this.data.files.task?.bestPossibleAccuracy;
  }

  private runEval(step: number, keepPairs = false): EvalSummary {
    // A run of the LM warm-up alone (`steps: 0`) has no trained reward: nothing to score.
    const pairs = this.run.train.steps === 0 ? [] : this.data.evalPairs;
    const scores = scorePairs(this.models, pairs, this.run);
    const summary = summarise(step, scores, pairs, this.run, this.bestPossible());
    if (keepPairs && pairs.length) {
      const rows: EvalPairRow[] = pairs.map((p, i) => ({ line: p.line, chosen: scores.chosen[i], rejected: scores.rejected[i], correct: scores.chosen[i] > scores.rejected[i] }));
      writeTextAtomic(join(this.dir, RUN_EVAL_PAIRS), rows.map((r) => JSON.stringify(r) + '\n').join(''));
    }
    if (summary.reward_acc) this.logMetric('eval', step, { reward_acc: summary.reward_acc.value, ...(summary.gold_acc ? { gold_acc: summary.gold_acc.value } : {}) });
    new JsonlAppender(join(this.dir, RUN_EVALS)).append(summary);
    this.hooks.emit({ type: 'eval', run_dir: this.dir, summary });
    return summary;
  }

  private finalEvaluation(step: number): EvalSummary {
    const summary = this.runEval(step, true);
    summary.eval_file = this.data.files.eval;
    summary.task = this.data.files.task?.name ?? null;
    // Per-token rewards: every eval sample when the task has gold token rewards to compare
    // them with (attribution quality), else only the samples dumped for the UI.
    const n = this.run.eval.dump_token_rewards;
    const { evalPairs, evalDemos } = this.data;
    const withGold = hasTokenRewards(this.run.objective.kind) && (evalPairs.length ? evalPairs.some((p) => p.goldTokens) : evalDemos.some((d) => d.goldTokens));
    const read = evalPairs.length
      ? readPairs(this.models, withGold ? evalPairs : evalPairs.slice(0, n), this.run, this.tokenizer)
      : readDemos(this.models, withGold ? evalDemos : evalDemos.slice(0, n), this.run, this.tokenizer);
    const attribution = withGold ? tokenAttribution(read) : undefined;
    if (attribution) summary.token_attribution = attribution;
    summary.alarms = this.monitor.alarms();
    writeJsonAtomic(join(this.dir, RUN_EVAL), summary);
    writeTextAtomic(join(this.dir, RUN_TOKEN_REWARDS), read.slice(0, n).map((l) => JSON.stringify(l) + '\n').join(''));
    return summary;
  }

  async train(): Promise<TrainResult> {
    const { run, hooks } = this;
    writeTextAtomic(join(this.dir, RUN_CONFIG), resolvedConfigYaml(run));
    this.setStatus({});
    const pre = run.train.pretrain_steps;
    let step = 0;
    try {
      const start = await this.setUp();
      this.parallel = await startDataParallel({ run, vocabSize: this.tokenizer.vocabSize, engine: this.opts.engine, models: this.models, optimizer: this.optimizer, referenceFrozen: pre === 0 || start.step > pre }, hooks.log);
      this.metrics = new JsonlAppender(join(this.dir, RUN_METRICS));
      writeJsonAtomic(join(this.dir, RUN_ENV), environmentInfo(this.opts.engine, run, this.data.files, this.initFrom));
      hooks.emit({ type: 'run_start', run_dir: this.dir, name: run.name, variant: run.variant, seed: run.seed, total_steps: this.totalSteps(), ...(start.step > 0 ? { resumed_from: start.step } : {}) });
      const sampler = start.sampler;
      step = start.step;
      let tokens = 0;
      let windowStart = Date.now();
      while (step < this.totalSteps()) {
        if (hooks.signal.aborted) {
          await this.saveCheckpoint(step, step < pre ? 'pretrain' : 'train', sampler);
          this.setStatus({ status: 'stopped', step });
          return { status: 'stopped', summary: null };
        }
        const phase: Phase = step < pre ? 'pretrain' : 'train';
        if (step === pre && pre > 0) this.freezeReference();
        const batch = this.nextBatch(sampler, phase, step);
        tokens += countTokens(batch);
        // Per-term gradient norms (before this step's update, on its batch): a diagnostic pass.
        const every = run.train.term_grads_every;
        const probe = phase === 'train' && every > 0 && (step + 1 - pre) % every === 0 ? termGradNorms(this.models, batch, phaseLoss(phase, run)) : {};
        const values = { ...(this.parallel ? await this.parallel.step(batch, phase) : trainStep(this.models, this.optimizer, batch, phaseLoss(phase, run))), ...probe };
        'chosen' in batch ? disposePairBatch(batch) : disposeSeqBatch(batch);
        step += 1;
        if (!Number.isFinite(values.loss)) throw diagnoseNonFinite(step, phase, values, run);

        if (step % run.train.log_every === 0 || step === this.totalSteps()) {
          const seconds = (Date.now() - windowStart) / 1000;
          // num_tensors: live tensors after the step; flat over a run unless something leaks.
          this.logMetric(phase, step, { ...values, tokens_per_s: seconds > 0 ? tokens / seconds : 0, num_tensors: tf.memory().numTensors });
          tokens = 0;
          windowStart = Date.now();
          this.setStatus({ step });
        }
        hooks.emit({ type: 'progress', run_dir: this.dir, phase, step, total: this.totalSteps() });
        if (phase === 'train' && step < this.totalSteps() && run.train.eval_every > 0 && (step - pre) % run.train.eval_every === 0 && this.data.evalPairs.length) this.runEval(step);
        if (step < this.totalSteps() && run.train.checkpoint_every > 0 && step % run.train.checkpoint_every === 0) await this.saveCheckpoint(step, phase, sampler);
        // Let signals and I/O through between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      // With `steps: 0` (the LM warm-up alone) the objective never starts: its reference is the warmed-up policy.
      if (run.train.steps === 0 && pre > 0) this.freezeReference();
      await this.saveCheckpoint(step, 'train', sampler);
      const summary = this.finalEvaluation(step);
      this.setStatus({ status: 'finished', step });
      return { status: 'finished', summary };
    } catch (e) {
      this.setStatus({ status: 'failed', step, error: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      this.metrics?.close();
    }
  }

  dispose(): void {
    this.parallel?.dispose();
    this.models?.policy.dispose();
    this.models?.reference?.dispose();
    this.optimizer?.dispose();
  }
}

/** Train one run to the end (or until stopped), releasing every tensor it made. */
export async function trainRun(opts: TrainOptions): Promise<TrainResult> {
  const trainer = new Trainer(opts);
  try {
    return await trainer.train();
  } finally {
    trainer.dispose();
  }
}
