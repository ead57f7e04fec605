/**
 * What every built-in task shares: the task interface, preference pairs with label noise,
 * demonstrations from the exact solver, and the best reward accuracy the labels allow.
 *
 * Texts are lower-case words separated by single spaces, so the `word` tokenizer's split
 * (data/words.ts) gives exactly the words the gold rewards are attached to. The gold reward
 * of a response is the sum of its per-word gold rewards; EOS gets none.
 *
 * Pairs: for a drawn prompt, two responses are sampled from the task's response
 * distribution (of random quality) and scored; pairs whose gold rewards differ by less than
 * the task's `minMargin` are near-ties and are redrawn. Let g⁺ ≥ g⁻ be the better and worse
 * gold rewards and Δ = g⁺ − g⁻. The stored label (chosen/rejected) agrees with the gold
 * with probability
 *   flip:  1 − p                     (p = `task_options.noise`, the flip probability)
 *   bt:    σ(Δ / τ)                  (Bradley–Terry, τ = `task_options.noise` in gold units;
 *                                     τ = 0 ⇒ always agrees)
 * which each row stores as `gold.p_label_correct`.
 *
 * Best possible accuracy: a reward model can at best pick, per pair, the more probable
 * label, so its expected reward accuracy is at most mean(max(p, 1 − p)) over the pairs,
 * p = p_label_correct (flip: 1 − p for p ≤ ½; bt: σ(Δ/τ)). `bestPossibleAccuracy`
 * computes it from the stored probabilities.
 */
import type { DemoGoldJSON, PairGoldJSON } from '../data/dataset.js';
import type { DataConfig } from '../experiment/config.js';
import { chance, round6, type Rng } from './random.js';

export type TaskOptions = DataConfig['task_options'];

/** One drawn prompt, with everything the gold reward needs closed over. */
export interface TaskInstance {
  prompt: string;
  /** Gold reward of each word of a response. */
  gold(response: readonly string[]): number[];
  /** A response with the highest gold reward among responses of at most `maxResponseWords`. */
  solve(rng: Rng): string[];
  /** A response from a distribution of varied quality. */
  sample(rng: Rng): string[];
}

export interface TaskDefinition {
  name: string;
  description: string;
  goldDescription: string;
  /** Pairs whose gold rewards differ by less are near-ties, redrawn. */
  minMargin: number;
  maxResponseWords: number;
  draw(rng: Rng): TaskInstance;
  /**
   * The gold reward for any response to `prompt`, read back from the prompt's text (a response
   * the model generated, for Best-of-N and win rates); null when the text is not one of this
   * task's prompts.
   */
  goldOf(prompt: string): ((response: readonly string[]) => number[]) | null;
  /** Every word a prompt or response can contain. */
  vocabulary: readonly string[];
}

/** A preference row, as written to train.jsonl / eval.jsonl. */
export interface PrefRow {
  prompt: string;
  chosen: string;
  rejected: string;
  gold: PairGoldJSON;
}

/** A demonstration row, as written to demos.jsonl. */
export interface DemoRow {
  prompt: string;
  response: string;
  gold: DemoGoldJSON;
}

const MAX_DRAWS_PER_ROW = 1000;

/** Per-word gold (rounded as stored) and its sum. */
export function scoreResponse(task: TaskInstance, words: readonly string[]): { total: number; tokens: number[] } {
  const tokens = task.gold(words).map(round6);
  return { total: round6(tokens.reduce((s, x) => s + x, 0)), tokens };
}

/** Probability that the stored label agrees with the gold ranking, for a gold margin Δ ≥ 0. */
export function labelCorrectProbability(noiseModel: TaskOptions['noise_model'], noise: number, margin: number): number {
  if (noiseModel === 'flip') return 1 - noise;
  if (noise === 0) return 1;
  return 1 / (1 + Math.exp(-margin / noise));
}

/**
 * The best accuracy the stored labels allow: mean over pairs of max(p, 1 − p), p = P(label =
 * gold ranking). A model that knows the gold ranks by it (or, when p < 0.5, against it).
 */
export function bestPossibleFromLabelProbabilities(ps: readonly number[]): number {
  if (ps.length === 0) return NaN;
  return ps.reduce((s, p) => s + Math.max(p, 1 - p), 0) / ps.length;
}

/** bestPossibleFromLabelProbabilities over the rows' p_label_correct. */
export function bestPossibleAccuracy(rows: readonly PrefRow[]): number {
  return bestPossibleFromLabelProbabilities(rows.map((r) => r.gold.p_label_correct));
}

/** Fraction of pairs whose stored label agrees with the gold (what the gold reward itself scores). */
export function goldAccuracy(rows: readonly PrefRow[]): number {
  return rows.filter((r) => r.gold.label_agrees).length / rows.length;
}

export function preferenceRows(task: TaskDefinition, opts: TaskOptions, n: number, rng: Rng): PrefRow[] {
  return Array.from({ length: n }, () => preferenceRow(task, opts, rng));
}

function preferenceRow(task: TaskDefinition, opts: TaskOptions, rng: Rng): PrefRow {
  for (let draw = 0; draw < MAX_DRAWS_PER_ROW; draw++) {
    const instance = task.draw(rng);
    const [a, b] = [instance.sample(rng), instance.sample(rng)];
    const [ga, gb] = [scoreResponse(instance, a), scoreResponse(instance, b)];
    const margin = round6(Math.abs(ga.total - gb.total));
    if (margin < task.minMargin) continue;
    const [better, worse] = ga.total > gb.total ? [{ words: a, ...ga }, { words: b, ...gb }] : [{ words: b, ...gb }, { words: a, ...ga }];
    const pCorrect = round6(labelCorrectProbability(opts.noise_model, opts.noise, margin));
    const agrees = chance(rng, pCorrect);
    const [chosen, rejected] = agrees ? [better, worse] : [worse, better];
    return {
      prompt: instance.prompt,
      chosen: chosen.words.join(' '),
      rejected: rejected.words.join(' '),
      gold: {
        chosen: chosen.total,
        rejected: rejected.total,
        label_agrees: agrees,
        p_label_correct: pCorrect,
        chosen_tokens: chosen.tokens,
        rejected_tokens: rejected.tokens,
      },
    };
  }
  throw new Error(`task ${task.name}: no pair with a gold margin of at least ${task.minMargin} in ${MAX_DRAWS_PER_ROW} draws`);
}

/** Demonstrations from the exact solver. */
export function demoRows(task: TaskDefinition, n: number, rng: Rng): DemoRow[] {
  return Array.from({ length: n }, () => {
    const instance = task.draw(rng);
    const words = instance.solve(rng);
    const { total, tokens } = scoreResponse(instance, words);
    return { prompt: instance.prompt, response: words.join(' '), gold: { reward: total, tokens } };
  });
}
