/**
 * AdamW (Loshchilov & Hutter) with global-norm gradient clipping and a warmup + cosine (or
 * constant) learning-rate schedule. Deterministic: no randomness; the state is the step and
 * the two moment estimates, exported as plain Float32Arrays so a resumed run continues exactly.
 *
 * Per step t (1-based), for each parameter p with clipped gradient g:
 *   m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *   p ← p − lr_t·( m/(1−β1ᵗ) / (√(v/(1−β2ᵗ)) + ε) + wd·p )      (decoupled weight decay)
 * Weight decay applies to matrices only (rank ≥ 2: matmul weights and embeddings, as in
 * nanoGPT); biases and LayerNorm gains/shifts (rank 1) are not decayed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AvaError } from '../errors.js';

export type LrSchedule = 'cosine' | 'constant';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  /** Default 1e-8. */
  eps?: number;
  weightDecay: number;
  /** Max global L2 norm of the gradients; 0 disables clipping. */
  gradClip: number;
  /** Linear warmup from lr/warmupSteps to lr over the first warmupSteps steps. */
  warmupSteps: number;
  /** Length of the cosine decay (the run's total steps). */
  totalSteps: number;
  /** `cosine`: after warmup, cosine decay to minLrRatio·lr at totalSteps; `constant`: lr. */
  schedule: LrSchedule;
  /** Floor of the cosine schedule as a fraction of lr (default 0.1, as in nanoGPT). */
  minLrRatio?: number;
}

/** Everything a resumed run needs, keyed by the model's readable variable names. */
export interface AdamWState {
  /** Number of updates applied so far. */
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface StepReport {
  /** Learning rate used by this update. */
  lr: number;
  /** Global L2 norm of the gradients before clipping (NaN/Infinity when they are not finite). */
  gradNorm: number;
}

/** Learning rate of update number `step` (1-based). */
export function learningRate(step: number, o: AdamWOptions): number {
  if (o.warmupSteps > 0 && step <= o.warmupSteps) return (o.lr * step) / o.warmupSteps;
  if (o.schedule === 'constant') return o.lr;
  const minLr = o.lr * (o.minLrRatio ?? 0.1);
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Whether a parameter is weight-decayed: matrices yes, vectors (biases, LayerNorm) no. */
export function isDecayed(shape: readonly number[]): boolean {
  return shape.length >= 2;
}

/** The global L2 norm of a set of gradients, as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** A non-trainable zero-filled variable shaped like p. */
function zerosSlot(p: tf.Variable): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zerosLike(p), false));
}

interface Slot {
  param: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
}

export class AdamW {
  private readonly slots = new Map<string, Slot>();
  /** tf.Variable.name (the key tf.variableGrads uses) → readable name. */
  private readonly byEngineName = new Map<string, string>();
  private t = 0;

  /** @param params the trainable variables by readable name (TQR.variables()). */
  constructor(
    params: Map<string, tf.Variable>,
    private readonly opts: AdamWOptions,
  ) {
    for (const [name, param] of params) {
      this.slots.set(name, { param, m: zerosSlot(param), v: zerosSlot(param), decay: isDecayed(param.shape) });
      this.byEngineName.set(param.name, name);
    }
  }

  get step(): number {
    return this.t;
  }

  /**
   * Clips and applies one update. `grads` is keyed by tf.Variable.name, as returned by
   * `tf.variableGrads(f, [...model.variables().values()]).grads`; parameters without a gradient
   * are left unchanged. When the gradient norm is not finite nothing changes (the step is not
   * counted) and the report's gradNorm says so: the caller decides what to do. The caller
   * disposes `grads`.
   */
  applyGradients(grads: tf.NamedTensorMap): StepReport {
    const entries = Object.entries(grads).map(([engineName, g]) => [this.slotFor(engineName), g] as const);
    const norm = globalNorm(entries.map(([, g]) => g));
    const gradNorm = norm.dataSync()[0];
    norm.dispose();
    const lr = learningRate(this.t + 1, this.opts);
    if (!Number.isFinite(gradNorm)) return { lr, gradNorm };
    this.t += 1;
    const clip = this.opts.gradClip > 0 && gradNorm > this.opts.gradClip ? this.opts.gradClip / gradNorm : 1;
    const { beta1: b1, beta2: b2 } = this.opts;
    const eps = this.opts.eps ?? 1e-8;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (const [slot, g] of entries) {
      tf.tidy(() => {
        const gc = clip === 1 ? g : tf.mul(g, clip);
        const m = tf.add(tf.mul(slot.m, b1), tf.mul(gc, 1 - b1));
        const v = tf.add(tf.mul(slot.v, b2), tf.mul(tf.square(gc), 1 - b2));
        const adam = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        const update = slot.decay ? tf.add(adam, tf.mul(slot.param, this.opts.weightDecay)) : adam;
        slot.m.assign(m);
        slot.v.assign(v);
        slot.param.assign(tf.sub(slot.param, tf.mul(update, lr)));
      });
    }
    return { lr, gradNorm };
  }

  getState(): AdamWState {
    const state: AdamWState = { step: this.t, m: {}, v: {} };
    for (const [name, slot] of this.slots) {
      state.m[name] = new Float32Array(slot.m.dataSync());
      state.v[name] = new Float32Array(slot.v.dataSync());
    }
    return state;
  }

  /** Restores a state from getState(); fails on a parameter set or size that does not match. */
  setState(state: AdamWState | undefined): void {
    if (!state?.m || !state.v) throw new AvaError('checkpoint', 'the checkpoint holds no optimizer state to resume from');
    const names = [...this.slots.keys()];
    const missing = names.filter((n) => !(n in state.m) || !(n in state.v));
    const extra = Object.keys(state.m).filter((n) => !this.slots.has(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new AvaError('checkpoint', `optimizer state does not match the model (missing: ${missing.join(', ') || '-'}; unknown: ${extra.join(', ') || '-'})`);
    }
    for (const [name, slot] of this.slots) {
      for (const [which, values] of [['m', state.m[name]], ['v', state.v[name]]] as const) {
        if (values.length !== slot.param.size) {
          throw new AvaError('checkpoint', `optimizer state '${which}' of ${name} has ${values.length} values, the parameter has ${slot.param.size}`);
        }
        tf.tidy(() => slot[which].assign(tf.tensor(values, slot.param.shape, 'float32')));
      }
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }

  private slotFor(engineName: string): Slot {
    const slot = this.slots.get(this.byEngineName.get(engineName) ?? engineName);
    if (!slot) throw new Error(`AdamW: gradient for unknown variable '${engineName}'`);
    return slot;
  }
}
