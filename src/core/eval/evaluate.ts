/**
 * Held-out evaluation of a trained model: sequence rewards of every eval pair (in batches,
 * no gradients), reward accuracy against the stored labels and, for built-in tasks, against
 * the gold ranking, beside the best accuracy the label noise allows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalSummary } from '../../protocol/events.js';
import type { RunConfig } from '../experiment/config.js';
import type { PairExample } from '../data/types.js';
import { collatePairs } from '../data/batch.js';
import { disposePairBatch } from '../objectives/batching.js';
import type { Models } from '../objectives/models.js';
import { pairRewards } from '../objectives/table.js';
import { rewardAccuracy, wilsonInterval } from './stats.js';
import { bestPossibleFromLabelProbabilities } from '../tasks/task.js';

export interface PairScores {
  chosen: number[];
  rejected: number[];
}

export function scorePairs(models: Models, pairs: PairExample[], run: RunConfig, batchSize = 32): PairScores {
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const batch = collatePairs(pairs.slice(i, i + batchSize));
    const [c, r] = tf.tidy(() => {
      const rw = pairRewards(models, batch, run);
      return [rw.chosen.dataSync(), rw.rejected.dataSync()];
    });
    disposePairBatch(batch);
    chosen.push(...c);
    rejected.push(...r);
  }
  return { chosen, rejected };
}

/** Accuracy of the model's ranking against the gold reward (label noise ignored). */
function goldAccuracy(scores: PairScores, pairs: PairExample[], tie: RunConfig['eval']['reward_accuracy_tie']) {
  const withGold = pairs.map((p, i) => ({ g: p.gold, i })).filter((x) => x.g !== undefined && x.g.chosen !== x.g.rejected);
  if (withGold.length === 0) return undefined;
  const better: number[] = [];
  const worse: number[] = [];
  for (const { g, i } of withGold) {
    const chosenIsGoldBetter = g!.chosen > g!.rejected;
    better.push(chosenIsGoldBetter ? scores.chosen[i] : scores.rejected[i]);
    worse.push(chosenIsGoldBetter ? scores.rejected[i] : scores.chosen[i]);
  }
  return rewardAccuracy(better, worse, tie);
}

/**
 * The best accuracy the labels of these pairs allow (the task generator's formula), when every
 * pair carries its P(label = gold ranking) (built-in tasks); undefined otherwise.
 */
export function bestPossibleAccuracy(pairs: readonly PairExample[]): number | undefined {
  const ps = pairs.map((p) => p.gold?.pLabelCorrect);
  if (ps.length === 0 || !ps.every((p) => p !== undefined)) return undefined;
  return bestPossibleFromLabelProbabilities(ps as number[]);
}

export function summarise(step: number, scores: PairScores, pairs: PairExample[], run: RunConfig, bestPossible: number | undefined): EvalSummary {
  const summary: EvalSummary = { step };
  if (pairs.length === 0) return summary;
  summary.reward_acc = rewardAccuracy(scores.chosen, scores.rejected, run.eval.reward_accuracy_tie);
  const gold = goldAccuracy(scores, pairs, run.eval.reward_accuracy_tie);
  if (gold) summary.gold_acc = gold;
  if (bestPossible !== undefined) summary.best_possible_acc = bestPossible;
  const agree = pairs.filter((p) => p.gold?.labelAgrees === true).length;
  if (pairs.some((p) => p.gold)) summary.label_agreement = wilsonInterval(agree, pairs.length);
  return summary;
}

export function evaluate(models: Models, pairs: PairExample[], run: RunConfig, step: number, bestPossible?: number): EvalSummary {
  return summarise(step, scorePairs(models, pairs, run), pairs, run, bestPossible);
}
