/**
 * TQR — Transformer with Q-value and Reward heads (spec §3, §4).
 *
 * A GPT-2 decoder, read top to bottom like nanoGPT's model.py: config → LayerNorm →
 * CausalSelfAttention → MLP → Block → heads → TQR. The layout is GPT-2's, so its weights load
 * unchanged: pre-LN blocks, learned position embeddings, biases everywhere, GELU (tanh form),
 * LM head tied to the token embedding, dense weights stored [in, out] (GPT-2's Conv1D) under
 * GPT-2's names without the `transformer.` prefix (`h.0.attn.c_attn.weight`).
 *
 * On top of the last hidden state h (after ln_f):
 *   z     = h·wteᵀ                          LM logits
 *   Q     = ptq(z) (Eq. 12) or Dense(H→V)   Q-values (spec §3 QHead, §4)
 *   μ, s  = Dense(H→2) or MLP               Gaussian reward head (Eq. 9), log σ = clamp(s)
 *   w     = Eq. 11 reward weights           from a dedicated attention or the last block's
 *   v     = Dense(H→1)                      value head of the BT / Preference Transformer baselines
 * The heads' outputs are returned unweighted; the objectives apply w (spec §3).
 * Dense layers, LayerNorm, matmuls, GELU (GPT-2's tanh form) and the embedding use the fast ops of
 * ../engine/fastops.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SeqBatch } from '../data/types.js';
import { dense, embeddingLookup, gelu, layerNorm, matMulChannels, matMulNN, stopGradient } from '../engine/fastops.js';
import { deriveSeed } from '../engine/random.js';
import { AvaError } from '../errors.js';
import type { ModelConfig } from '../experiment/config.js';
import { logSigmaFromRaw, ptqQ, rewardWeightsFromProbs, rewardWeightsFromScores } from './heads.js';
import type { ForwardRequest, TQROutputs } from './types.js';

// ---- configuration --------------------------------------------------------------------------

/** The backbone's shape (nanoGPT's GPTConfig). */
export interface GPTConfig {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  vocabSize: number;
  dropout: number;
}

export function gptConfig(m: ModelConfig, vocabSize: number): GPTConfig {
  if (m.d_model % m.n_head !== 0) {
    throw new AvaError('config', `model.d_model (${m.d_model}) must be a multiple of model.n_head (${m.n_head})`, { key: 'model.d_model' });
  }
  return { nLayer: m.n_layer, nHead: m.n_head, nEmbd: m.d_model, blockSize: m.context, vocabSize, dropout: m.dropout };
}

/** Which heads carry parameters (and may be requested in forward). */
export interface HeadSet {
  q: boolean;
  reward: boolean;
  weights: boolean;
  value: boolean;
}

// ---- parameters and dropout ----------------------------------------------------------------

const INIT_STD = 0.02;
const LN_EPS = 1e-5;
const MASKED = -1e9;

/** Process-wide counter: tf.Variable names must be unique, so each TQR gets its own scope. */
let instanceCount = 0;

/** Creates the model's variables, each initialised from a seed derived from its name. */
class Params {
  readonly vars = new Map<string, tf.Variable>();
  private readonly scope = `tqr${instanceCount++}`;

  constructor(private readonly seed: number) {}

  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.add(name, () => tf.randomNormal(shape, 0, std, 'float32', deriveSeed(this.seed, name)));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, () => tf.fill(shape, value));
  }

  private add(name: string, init: () => tf.Tensor): tf.Variable {
    const v = tf.tidy(() => tf.variable(init(), true, `${this.scope}/${name}`));
    this.vars.set(name, v);
    return v;
  }
}

/** Dropout of one forward call; `seed` null (evaluation) makes it the identity. */
class Dropout {
  private site = 0;

  constructor(
    private readonly rate: number,
    private readonly seed: number | null,
  ) {}

  apply(x: tf.Tensor): tf.Tensor {
    if (this.seed === null || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, deriveSeed(this.seed, this.site++));
  }
}

const NO_DROPOUT = new Dropout(0, null);

/** One layer's cached keys [hd, B·nh, t] and values [t, B·nh, hd] (the layouts of matMulChannels). */
export interface LayerKV {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/** Decoding state: each layer's keys and values, and which cache slots are real tokens [B,t]. */
export interface KVCache {
  layers: LayerKV[];
  keyValid: tf.Tensor2D;
}

/** Frees a cache's tensors. */
export function disposeCache(cache: KVCache): void {
  tf.dispose([cache.keyValid, ...cache.layers.flatMap((l) => [l.k, l.v])]);
}

// ---- layers --------------------------------------------------------------------------------

/** y = x·W + b with W stored [in, out]. */
class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(p: Params, name: string, nIn: number, nOut: number, std = INIT_STD) {
    this.weight = p.normal(`${name}.weight`, [nIn, nOut], std);
    this.bias = p.constant(`${name}.bias`, [nOut], 0);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dense(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D);
  }
}

class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(p: Params, name: string, n: number) {
    this.weight = p.constant(`${name}.weight`, [n], 1);
    this.bias = p.constant(`${name}.bias`, [n], 0);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, LN_EPS);
  }
}

/**
 * Additive attention bias [T,B,1,T] (query, batch, head, key: the layout of the attention
 * scores): 0 where query i may see key j (j ≤ i and j valid), −1e9 elsewhere. Padded keys are
 * masked; padded query rows still see the valid keys.
 */
function attentionBias(valid: tf.Tensor2D): tf.Tensor4D {
  const T = valid.shape[1];
  const lower = new Float32Array(T * T).map((_, k) => (k % T <= Math.floor(k / T) ? 1 : 0));
  const allowed = tf.mul(tf.tensor3d(lower, [T, 1, T]), tf.expandDims(valid, 0)); // [T,B,T]
  return tf.expandDims(tf.mul(tf.sub(1, allowed), MASKED), 2) as tf.Tensor4D;
}

/**
 * Causal self-attention with the (batch, head) pairs s as the channel axis of matMulChannels
 * (../engine/fastops.ts), the layout whose products run as one depthwise convolution on wasm:
 *   scores[i,s,j] = q[s,i]·k[s,j]/√hd,   y[i,s] = Σ_j softmax(scores)[i,s,j]·v[s,j].
 */
class CausalSelfAttention {
  readonly c_attn: Linear;
  readonly c_proj: Linear;

  constructor(
    p: Params,
    name: string,
    private readonly cfg: GPTConfig,
  ) {
    this.c_attn = new Linear(p, `${name}.c_attn`, cfg.nEmbd, 3 * cfg.nEmbd);
    // GPT-2: residual projections scaled by 1/√(2·n_layer) at init.
    this.c_proj = new Linear(p, `${name}.c_proj`, cfg.nEmbd, cfg.nEmbd, INIT_STD / Math.sqrt(2 * cfg.nLayer));
  }

  /**
   * Returns the output, the attention probabilities [T(query),B,nh,T(key)] (before dropout) and
   * the keys [hd,S,T] and values [T,S,hd] in the layout a decoding cache keeps (KVCache).
   */
  forward(x: tf.Tensor3D, bias: tf.Tensor4D, drop: Dropout): { y: tf.Tensor3D; probs: tf.Tensor4D; kv: LayerKV } {
    const [B, T, C] = x.shape;
    const nh = this.cfg.nHead;
    const hd = C / nh;
    const S = B * nh;
    const [q, k, v] = tf.split(this.c_attn.forward(x), 3, -1).map((t) => tf.reshape(t, [B, T, nh, hd]));
    const qs = tf.reshape(tf.transpose(tf.mul(q, 1 / Math.sqrt(hd)), [1, 3, 0, 2]), [T, hd, S]);
    const ks = tf.reshape(tf.transpose(k, [3, 0, 2, 1]), [hd, S, T]) as tf.Tensor3D;
    const vs = tf.reshape(tf.transpose(v, [1, 0, 2, 3]), [T, S, hd]) as tf.Tensor3D;
    const scores = tf.add(tf.reshape(matMulChannels(qs as tf.Tensor3D, ks), [T, B, nh, T]), bias);
    const probs = tf.softmax(scores, -1) as tf.Tensor4D;
    const att = tf.transpose(tf.reshape(drop.apply(probs), [T, S, T]), [0, 2, 1]); // [T(query), T(key), S]
    const ys = tf.reshape(matMulChannels(att as tf.Tensor3D, vs), [T, B, nh, hd]);
    const y = tf.reshape(tf.transpose(ys, [1, 0, 2, 3]), [B, T, C]);
    return { y: drop.apply(this.c_proj.forward(y)) as tf.Tensor3D, probs, kv: { k: ks, v: vs } };
  }

  /**
   * One new token per row, attending to the cached keys and values plus its own: x [B,1,C],
   * keyBias [1,B,1,t+1] (0 on keys the row may see, −1e9 on its prompt padding). Same products
   * as `forward` with a single query row; returns the extended cache.
   */
  step(x: tf.Tensor3D, cache: LayerKV, keyBias: tf.Tensor4D): { y: tf.Tensor3D; kv: LayerKV } {
    const [B, , C] = x.shape;
    const nh = this.cfg.nHead;
    const hd = C / nh;
    const S = B * nh;
    const [q, k, v] = tf.split(this.c_attn.forward(x), 3, -1).map((t) => tf.reshape(t, [B, nh, hd]));
    const qs = tf.reshape(tf.transpose(tf.mul(q, 1 / Math.sqrt(hd)), [2, 0, 1]), [1, hd, S]) as tf.Tensor3D;
    const ks = tf.concat([cache.k, tf.reshape(tf.transpose(k, [2, 0, 1]), [hd, S, 1])], 2) as tf.Tensor3D;
    const vs = tf.concat([cache.v, tf.reshape(v, [1, S, hd])], 0) as tf.Tensor3D;
    const t = vs.shape[0];
    const scores = tf.add(tf.reshape(matMulChannels(qs, ks), [1, B, nh, t]), keyBias);
    const att = tf.transpose(tf.reshape(tf.softmax(scores, -1), [1, S, t]), [0, 2, 1]); // [1, T(key), S]
    const y = tf.reshape(matMulChannels(att as tf.Tensor3D, vs), [B, 1, C]);
    return { y: this.c_proj.forward(y) as tf.Tensor3D, kv: { k: ks, v: vs } };
  }
}

class MLP {
  readonly c_fc: Linear;
  readonly c_proj: Linear;

  constructor(p: Params, name: string, cfg: GPTConfig) {
    this.c_fc = new Linear(p, `${name}.c_fc`, cfg.nEmbd, 4 * cfg.nEmbd);
    this.c_proj = new Linear(p, `${name}.c_proj`, 4 * cfg.nEmbd, cfg.nEmbd, INIT_STD / Math.sqrt(2 * cfg.nLayer));
  }

  forward(x: tf.Tensor, drop: Dropout): tf.Tensor {
    return drop.apply(this.c_proj.forward(gelu(this.c_fc.forward(x))));
  }
}

class Block {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(p: Params, name: string, cfg: GPTConfig) {
    this.ln_1 = new LayerNorm(p, `${name}.ln_1`, cfg.nEmbd);
    this.attn = new CausalSelfAttention(p, `${name}.attn`, cfg);
    this.ln_2 = new LayerNorm(p, `${name}.ln_2`, cfg.nEmbd);
    this.mlp = new MLP(p, `${name}.mlp`, cfg);
  }

  forward(x: tf.Tensor3D, bias: tf.Tensor4D, drop: Dropout): { x: tf.Tensor3D; probs: tf.Tensor4D; kv: LayerKV } {
    const { y, probs, kv } = this.attn.forward(this.ln_1.forward(x) as tf.Tensor3D, bias, drop);
    const x1 = tf.add(x, y);
    return { x: tf.add(x1, this.mlp.forward(this.ln_2.forward(x1), drop)) as tf.Tensor3D, probs, kv };
  }

  /** `forward` for one new token per row against the cache (no dropout: decoding is evaluation). */
  step(x: tf.Tensor3D, cache: LayerKV, keyBias: tf.Tensor4D): { x: tf.Tensor3D; kv: LayerKV } {
    const { y, kv } = this.attn.step(this.ln_1.forward(x) as tf.Tensor3D, cache, keyBias);
    const x1 = tf.add(x, y);
    return { x: tf.add(x1, this.mlp.forward(this.ln_2.forward(x1), NO_DROPOUT)) as tf.Tensor3D, kv };
  }
}

/** The head average of attention probabilities [T(query),B,nh,T(key)] → [B,T(query),T(key)]. */
function headMean(probs: tf.Tensor4D): tf.Tensor3D {
  return tf.transpose(tf.mean(probs, 2), [1, 0, 2]) as tf.Tensor3D;
}

// ---- heads ---------------------------------------------------------------------------------

/** Gaussian reward head (Eq. 9): raw [μ, s] from h; log σ from the σ parameterisation. */
class RewardHead {
  private readonly fc: Linear | null;
  private readonly out: Linear;

  constructor(
    p: Params,
    private readonly m: ModelConfig,
  ) {
    const H = m.d_model;
    this.fc = m.reward_head_arch === 'mlp' ? new Linear(p, 'reward_head.fc', H, H) : null;
    this.out = new Linear(p, m.reward_head_arch === 'mlp' ? 'reward_head.proj' : 'reward_head', H, 2);
  }

  forward(h: tf.Tensor3D): { mu: tf.Tensor2D; logSigma: tf.Tensor2D } {
    const x = this.fc ? gelu(this.fc.forward(h)) : h;
    const [B, T] = h.shape;
    const [mu, s] = tf.split(this.out.forward(x), 2, -1).map((t) => tf.reshape(t, [B, T]) as tf.Tensor2D);
    return { mu, logSigma: logSigmaFromRaw(s, this.m) as tf.Tensor2D };
  }
}

/**
 * Dedicated single-head attention of Eq. 11 (Preference-Transformer style):
 * [q, k] = Dense(H→2·d_a)(h), S = q·kᵀ (/√d_a), then the column mean of softmax(S).
 */
class RewardWeightAttention {
  private readonly qk: Linear;

  constructor(
    p: Params,
    private readonly m: ModelConfig,
  ) {
    this.qk = new Linear(p, 'reward_attn.qk', m.d_model, 2 * m.pref_attn_dim);
  }

  forward(h: tf.Tensor3D, members: tf.Tensor2D): tf.Tensor2D {
    const [q, k] = tf.split(this.qk.forward(h), 2, -1);
    const raw = matMulNN(q, tf.transpose(k, [0, 2, 1]));
    const scores = this.m.reward_weight_scale === 'sqrt_d' ? tf.mul(raw, 1 / Math.sqrt(this.m.pref_attn_dim)) : raw;
    return rewardWeightsFromScores(scores as tf.Tensor3D, members, this.m.reward_weight_causal);
  }
}

// ---- the model -----------------------------------------------------------------------------

export class TQR {
  readonly config: GPTConfig;
  private readonly params: Params;
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly h: Block[];
  private readonly ln_f: LayerNorm;
  private readonly qHead: Linear | null;
  private readonly rewardHead: RewardHead | null;
  private readonly valueHead: Linear | null;
  private readonly weightAttention: RewardWeightAttention | null;
  private readonly seed: number;
  private dropoutCalls = 0;

  constructor(
    private readonly m: ModelConfig,
    vocabSize: number,
    private readonly opts: { seed: number; heads: HeadSet },
  ) {
    const cfg = gptConfig(m, vocabSize);
    this.config = cfg;
    this.seed = opts.seed;
    const p = (this.params = new Params(opts.seed));
    this.wte = p.normal('wte.weight', [cfg.vocabSize, cfg.nEmbd], INIT_STD);
    this.wpe = p.normal('wpe.weight', [cfg.blockSize, cfg.nEmbd], INIT_STD);
    this.h = Array.from({ length: cfg.nLayer }, (_, i) => new Block(p, `h.${i}`, cfg));
    this.ln_f = new LayerNorm(p, 'ln_f', cfg.nEmbd);
    const heads = opts.heads;
    this.qHead = heads.q && m.q_head === 'fresh' ? new Linear(p, 'q_head', cfg.nEmbd, cfg.vocabSize, m.fresh_q_head_init_std) : null;
    this.rewardHead = heads.reward ? new RewardHead(p, m) : null;
    this.valueHead = heads.value ? new Linear(p, 'value_head', cfg.nEmbd, 1) : null;
    this.weightAttention = heads.weights && m.reward_weight_source === 'dedicated_attention' ? new RewardWeightAttention(p, m) : null;
  }

  /**
   * One pass over a right-padded batch. Every request flag defaults to false; `h` and `w` are
   * always returned. w is Eq. 11 when the model has reward weights and `req.weights`, else
   * `valid` (ones on real tokens, 0 on padding). Requesting a head the model was built
   * without throws. The returned tensors belong to the caller; nothing else is kept.
   */
  forward(batch: SeqBatch, req: ForwardRequest): TQROutputs {
    this.checkRequest(batch, req);
    const drop = new Dropout(this.config.dropout, req.training ? deriveSeed(this.seed, 'dropout', ++this.dropoutCalls) : null);
    const outputs = tf.tidy(() => this.compute(batch, req, drop) as unknown as tf.TensorContainer);
    return outputs as unknown as TQROutputs;
  }

  // ---- decoding with a key/value cache (../generate/generate.ts samples with it) ----

  /**
   * Runs right-padded prompts once and keeps every layer's keys and values. Returns the cache
   * and h at each row's last real token [B,H], from which the first new token is scored.
   */
  prefill(batch: SeqBatch): { cache: KVCache; h: tf.Tensor2D } {
    this.checkRequest(batch, {});
    return tf.tidy(() => {
      const layers: LayerKV[] = [];
      const { h } = this.transformer(batch, NO_DROPOUT, false, layers);
      const [B, T, H] = h.shape;
      const last = tf.tensor1d(batch.lengths.map((len, b) => b * T + len - 1), 'int32');
      const cache: KVCache = { layers, keyValid: tf.clone(batch.valid) as tf.Tensor2D };
      return { cache, h: tf.gather(tf.reshape(h, [B * T, H]), last) as tf.Tensor2D } as unknown as tf.TensorContainer;
    }) as unknown as { cache: KVCache; h: tf.Tensor2D };
  }

  /**
   * Feeds one token per row, `ids[b]` at position `positions[b]`, against the cache. Returns the
   * extended cache (the caller disposes the old one) and the new tokens' h [B,H].
   */
  decodeStep(cache: KVCache, ids: readonly number[], positions: readonly number[]): { cache: KVCache; h: tf.Tensor2D } {
    const B = ids.length;
    const over = positions.find((p) => p >= this.config.blockSize);
    if (over !== undefined) throw new AvaError('config', `decoding position ${over} is past model.context (${this.config.blockSize})`, { key: 'model.context' });
    return tf.tidy(() => {
      const tok = embeddingLookup(this.wte as tf.Tensor2D, tf.tensor2d(ids as number[], [B, 1], 'int32'));
      const pos = embeddingLookup(this.wpe as tf.Tensor2D, tf.tensor2d(positions as number[], [B, 1], 'int32'));
      const keyValid = tf.concat([cache.keyValid, tf.ones([B, 1])], 1) as tf.Tensor2D;
      const keyBias = tf.reshape(tf.mul(tf.sub(1, keyValid), MASKED), [1, B, 1, keyValid.shape[1]]) as tf.Tensor4D;
      let x = tf.add(tok, pos) as tf.Tensor3D;
      const layers = this.h.map((block, i) => {
        const out = block.step(x, cache.layers[i], keyBias);
        x = out.x;
        return out.kv;
      });
      const h = tf.reshape(this.ln_f.forward(x), [B, this.config.nEmbd]) as tf.Tensor2D;
      return { cache: { layers, keyValid }, h } as unknown as tf.TensorContainer;
    }) as unknown as { cache: KVCache; h: tf.Tensor2D };
  }

  /**
   * Next-token scores from h [B,H] (spec §8 #23 `generation_policy`): the LM logits z = h·wteᵀ
   * for `lm`, the Q-values (ptq(z), Eq. 12, or the fresh Q head) for `q`. [B,V].
   */
  nextTokenScores(h: tf.Tensor2D, policy: 'lm' | 'q'): tf.Tensor2D {
    return tf.tidy(() => {
      const h3 = tf.expandDims(h, 1) as tf.Tensor3D;
      const logits = policy === 'lm' || this.m.q_head === 'pretrained' ? this.lmHead(h3) : null;
      const scores = policy === 'lm' ? logits! : this.qValues(h3, logits);
      return tf.squeeze(scores, [1]) as tf.Tensor2D;
    });
  }

  /** The trainable variables by readable name, in creation order. */
  variables(): Map<string, tf.Variable> {
    return new Map(this.params.vars);
  }

  /**
   * Copies weights into the model. Shapes must match. `strict` (default true) also requires
   * every model variable to be present and no unknown name; non-strict loads the names the
   * model has (e.g. a backbone without heads) and ignores the rest. Nothing is changed when
   * a check fails.
   */
  loadWeights(weights: Map<string, tf.Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const vars = this.params.vars;
    const problems: string[] = [];
    for (const [name, t] of weights) {
      const v = vars.get(name);
      if (!v) {
        if (strict) problems.push(`unknown weight ${name}`);
      } else if (!tf.util.arraysEqual(v.shape, t.shape)) {
        problems.push(`${name}: checkpoint shape [${t.shape}] but the model has [${v.shape}]`);
      }
    }
    if (strict) for (const name of vars.keys()) if (!weights.has(name)) problems.push(`missing weight ${name}`);
    if (problems.length > 0) {
      throw new AvaError('checkpoint', `weights do not match the model (${problems.length} problem${problems.length > 1 ? 's' : ''}; first: ${problems[0]})`, { key: 'model' }, problems);
    }
    for (const [name, t] of weights) {
      const v = vars.get(name);
      if (v) tf.tidy(() => v.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.params.vars.values()) v.dispose();
    this.params.vars.clear();
  }

  // ---- forward pass, in order ----

  private compute(batch: SeqBatch, req: ForwardRequest, drop: Dropout): TQROutputs {
    const wantWeights = req.weights === true && this.opts.heads.weights;
    const needProbs = wantWeights && this.m.reward_weight_source === 'backbone_last_layer';
    const { h, lastProbs } = this.transformer(batch, drop, needProbs);
    const needLogits = req.logits === true || (req.q === true && this.m.q_head === 'pretrained');
    const logits = needLogits ? this.lmHead(h) : null;
    const reward = req.reward ? this.rewardHead!.forward(h) : null;
    return {
      h,
      logits: req.logits ? logits : null,
      q: req.q ? this.qValues(h, logits) : null,
      mu: reward?.mu ?? null,
      logSigma: reward?.logSigma ?? null,
      w: wantWeights ? this.rewardWeights(h, batch, lastProbs) : (tf.clone(batch.valid) as tf.Tensor2D),
      value: req.value ? (tf.squeeze(this.valueHead!.forward(h), [2]) as tf.Tensor2D) : null,
    };
  }

  /** The GPT decoder: h = ln_f(blocks(drop(wte[ids] + wpe[0..T)))), [B,T,H]. */
  private transformer(batch: SeqBatch, drop: Dropout, keepLastProbs: boolean, kvOut?: LayerKV[]): { h: tf.Tensor3D; lastProbs: tf.Tensor4D | null } {
    const [, T] = batch.ids.shape;
    const tok = embeddingLookup(this.wte as tf.Tensor2D, batch.ids);
    const pos = tf.slice(this.wpe, [0, 0], [T, this.config.nEmbd]);
    let x = drop.apply(tf.add(tok, pos)) as tf.Tensor3D;
    const bias = attentionBias(batch.valid);
    let lastProbs: tf.Tensor4D | null = null;
    for (const block of this.h) {
      const out = block.forward(x, bias, drop);
      x = out.x;
      lastProbs = out.probs;
      kvOut?.push(out.kv);
    }
    return { h: this.ln_f.forward(x) as tf.Tensor3D, lastProbs: keepLastProbs ? lastProbs : null };
  }

  /** Tied LM head: z = h·wteᵀ, the transpose made explicit so the product stays NN. */
  private lmHead(h: tf.Tensor3D): tf.Tensor3D {
    return matMulNN(h, tf.transpose(this.wte)) as tf.Tensor3D;
  }

  /** spec §3 QHead: ptq(z) (Eq. 12) for `pretrained`, a fresh Dense(H→V) for `fresh`. */
  private qValues(h: tf.Tensor3D, logits: tf.Tensor3D | null): tf.Tensor3D {
    if (this.m.q_head === 'pretrained') return ptqQ(logits!, this.m.alpha, this.m.ptq_input) as tf.Tensor3D;
    return this.qHead!.forward(h) as tf.Tensor3D;
  }

  /**
   * Eq. 11 weights over the members of `reward_weight_scope` (valid or response tokens), from
   * the dedicated attention or the last block's head-averaged probabilities. The latter are
   * causal by construction, so `reward_weight_causal` and `reward_weight_scale` only concern the
   * dedicated attention. With `reward_weight_grad = stop` no gradient flows back through w.
   */
  private rewardWeights(h: tf.Tensor3D, batch: SeqBatch, lastProbs: tf.Tensor4D | null): tf.Tensor2D {
    const members = this.m.reward_weight_scope === 'response_tokens' ? batch.resp : batch.valid;
    const w = this.weightAttention ? this.weightAttention.forward(h, members) : rewardWeightsFromProbs(headMean(lastProbs!), members);
    return this.m.reward_weight_grad === 'stop' ? stopGradient(w) : w;
  }

  private checkRequest(batch: SeqBatch, req: ForwardRequest): void {
    const [, T] = batch.ids.shape;
    if (T > this.config.blockSize) {
      throw new AvaError('data', `a batch of ${T} tokens is longer than model.context (${this.config.blockSize})`, { key: 'model.context' });
    }
    const heads = this.opts.heads;
    const missing = [
      req.q && this.m.q_head === 'fresh' && !heads.q ? 'q' : null,
      req.reward && !heads.reward ? 'reward' : null,
      req.value && !heads.value ? 'value' : null,
    ].filter((x) => x !== null);
    if (missing.length > 0) throw new Error(`TQR.forward: requested head(s) ${missing.join(', ')} the model was built without`);
  }
}
