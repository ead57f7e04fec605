/**
 * Per-token reward readout (spec §5): one teacher-forced pass over prompt + response, then
 * for every response token the weighted mean μ̃ and std σ̃ paired with it, its weight w, and
 * the raw head outputs, as plain JSON (`LineRewards`) for the CLI, the run directory and
 * the VS Code hover.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LineRewards, SequenceRewards, TokenReward } from '../../protocol/events.js';
import type { RunConfig } from '../experiment/config.js';
import type { DemoExample, EncodedSeq, PairExample } from '../data/types.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { collateSeqs } from '../data/batch.js';
import { tokenRewardReadout, type SeqView } from '../objectives/index.js';
import { disposeSeqBatch } from '../objectives/batching.js';
import type { Models } from '../objectives/models.js';
import { evalView, hasTokenRewards, sequenceRewardFor } from '../objectives/table.js';

interface Readout {
  mean: Float32Array;
  std: Float32Array;
  weight: Float32Array;
  rawMean: Float32Array;
  rawStd: Float32Array;
  reward: Float32Array;
}

function readBatch(models: Models, seqs: EncodedSeq[], run: RunConfig, padTo: number): { T: number; r: Readout } {
  const batch = collateSeqs(seqs, padTo);
  const T = batch.ids.shape[1];
  const r = tf.tidy(() => {
    const view: SeqView = evalView(models, batch, run);
    const reward = sequenceRewardFor(run.objective.kind, view, run.model, run.objective).dataSync() as Float32Array;
    if (!hasTokenRewards(run.objective.kind)) {
      const zeros = new Float32Array(seqs.length * T);
      return { mean: zeros, std: zeros, weight: zeros, rawMean: zeros, rawStd: zeros, reward };
    }
    const ro = tokenRewardReadout(view, run.model, run.objective);
    return {
      mean: ro.mean.dataSync() as Float32Array,
      std: ro.std.dataSync() as Float32Array,
      weight: ro.weight.dataSync() as Float32Array,
      rawMean: ro.rawMean.dataSync() as Float32Array,
      rawStd: ro.rawStd.dataSync() as Float32Array,
      reward,
    };
  });
  disposeSeqBatch(batch);
  return { T, r };
}

function sequenceRewards(seq: EncodedSeq, row: number, T: number, r: Readout, tok: Tokenizer, gold?: number[], goldSeq?: number): SequenceRewards {
  const len = seq.ids.length;
  const tokens: TokenReward[] = [];
  for (let k = seq.promptLen; k < len; k++) {
    const i = row * T + k;
    const t: TokenReward = {
      token: tok.tokenText(seq.ids[k]),
      id: seq.ids[k],
      mean: r.mean[i],
      std: r.std[i],
      weight: r.weight[i],
      raw_mean: r.rawMean[i],
      raw_std: r.rawStd[i],
    };
    const g = gold?.[k - seq.promptLen];
    if (g !== undefined) t.gold = g;
    tokens.push(t);
  }
  const out: SequenceRewards = {
    text: tok.decode(seq.ids.slice(seq.promptLen).filter((id) => id !== tok.eos)),
    prompt_tokens: seq.ids.slice(1, seq.promptLen).map((id) => tok.tokenText(id)),
    tokens,
    reward: r.reward[row],
  };
  if (goldSeq !== undefined) out.gold = goldSeq;
  return out;
}

/** Per-token rewards of preference pairs, `batchSize` pairs per forward pass. */
export function readPairs(models: Models, pairs: PairExample[], run: RunConfig, tok: Tokenizer, batchSize = 16): LineRewards[] {
  const out: LineRewards[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const padTo = collatePairsLength(chunk);
    const c = readBatch(models, chunk.map((p) => p.chosen), run, padTo);
    const r = readBatch(models, chunk.map((p) => p.rejected), run, padTo);
    chunk.forEach((p, j) => {
      const chosen = sequenceRewards(p.chosen, j, c.T, c.r, tok, p.goldTokens?.chosen, p.gold?.chosen);
      const rejected = sequenceRewards(p.rejected, j, r.T, r.r, tok, p.goldTokens?.rejected, p.gold?.rejected);
      out.push({ line: p.line, kind: 'preference', chosen, rejected, correct: chosen.reward > rejected.reward });
    });
  }
  return out;
}

/** Per-token rewards of demonstrations. */
export function readDemos(models: Models, demos: DemoExample[], run: RunConfig, tok: Tokenizer, batchSize = 16): LineRewards[] {
  const out: LineRewards[] = [];
  for (let i = 0; i < demos.length; i += batchSize) {
    const chunk = demos.slice(i, i + batchSize);
    const { T, r } = readBatch(models, chunk.map((d) => d.seq), run, Math.max(...chunk.map((d) => d.seq.ids.length)));
    chunk.forEach((d, j) => out.push({ line: d.line, kind: 'demonstration', response: sequenceRewards(d.seq, j, T, r, tok, d.goldTokens) }));
  }
  return out;
}

function collatePairsLength(pairs: PairExample[]): number {
  return Math.max(...pairs.flatMap((p) => [p.chosen.ids.length, p.rejected.ids.length]));
}
