/**
 * `summary` (in the spirit of OpenAI TL;DR): list the distinct keywords of a short story in
 * the order they first appear.
 *
 * Prompt: "summarize : " + a sentence of keywords (2–4 distinct, some repeated) and stop
 * words, e.g. "summarize : the fox saw a river near the fox and the king".
 * Target: the distinct keywords in order of first appearance ("fox river king"), k of them.
 *
 * Gold: an in-order F1 split per word by telescoping over prefixes. Reading the response
 * left to right, a word is a hit when it is a prompt keyword that comes after the keyword
 * of the previous hit in the target order (so repeats and out-of-order words miss). With
 * h_i hits among the first i words, F1_i = 2·h_i / (i + k) (precision h/i, recall h/k) and
 *   gold_i = F1_i − F1_{i−1},   Σ_i gold_i = F1 of the whole response ∈ [0, 1].
 * Each word's gold depends only on the words before it; hits are positive, misses after the
 * first hit negative. The exact solver outputs the target (F1 = 1).
 */
import { chance, pick, randInt, shuffled, type Rng } from './random.js';
import type { TaskDefinition, TaskInstance } from './task.js';

export const SUMMARY_KEYWORDS: readonly string[] = [
  'fox', 'dog', 'river', 'forest', 'king', 'castle', 'ship', 'storm', 'village', 'dragon',
  'farmer', 'horse', 'bridge', 'tower', 'wolf', 'queen', 'island', 'mountain', 'lake', 'child',
  'bird', 'tree', 'road', 'market', 'baker', 'soldier', 'cave', 'moon',
]; // prettier-ignore
const STOP_WORDS = ['the', 'a', 'and', 'of', 'near', 'with', 'by', 'to', 'in', 'on', 'over', 'then', 'saw', 'was', 'went'];
const PROMPT_HEAD = 'summarize :';
const MAX_WORDS = 10;

/** Gold reward of each response word: prefix-telescoped in-order F1 against `target`. */
export function summaryGold(target: readonly string[], response: readonly string[]): number[] {
  const k = target.length;
  let next = 0; // target index after the previous hit
  let hits = 0;
  let previousF1 = 0;
  return response.map((w, i) => {
    const at = target.indexOf(w, next);
    if (at >= 0) {
      hits++;
      next = at + 1;
    }
    const f1 = (2 * hits) / (i + 1 + k);
    const gold = f1 - previousF1;
    previousF1 = f1;
    return gold;
  });
}

/** A sentence whose keywords, in first-appearance order, are `target`; each may appear twice. */
function storySentence(target: readonly string[], rng: Rng): string[] {
  const mentions = [...target];
  for (const w of target) if (chance(rng, 0.35)) mentions.splice(randInt(rng, mentions.indexOf(w) + 1, mentions.length), 0, w);
  return mentions.flatMap((w) => [...Array.from({ length: randInt(rng, 1, 2) }, () => pick(rng, STOP_WORDS)), w]);
}

/** Starts from the target and corrupts it; quality q ∈ [0,1] lowers every corruption rate. */
function sampleResponse(target: readonly string[], story: readonly string[], rng: Rng): string[] {
  const bad = 1 - rng();
  const distractors = SUMMARY_KEYWORDS.filter((w) => !target.includes(w));
  const out: string[] = [];
  for (const w of target) {
    if (chance(rng, 0.1 * bad)) out.push(pick(rng, story)); // a word copied from the story
    if (chance(rng, 0.25 * bad)) out.push(pick(rng, distractors)); // a keyword not in the story
    if (!chance(rng, 0.4 * bad)) out.push(w); // else dropped
    if (chance(rng, 0.2 * bad)) out.push(w); // repeated
  }
  if (out.length >= 2 && chance(rng, 0.5 * bad)) {
    const i = randInt(rng, 0, out.length - 2);
    [out[i], out[i + 1]] = [out[i + 1], out[i]];
  }
  return out.slice(0, MAX_WORDS);
}

function draw(rng: Rng): TaskInstance {
  const target = shuffled(rng, SUMMARY_KEYWORDS).slice(0, randInt(rng, 2, 4));
  const story = storySentence(target, rng);
  return {
    prompt: `${PROMPT_HEAD} ${story.join(' ')}`,
    gold: (response) => summaryGold(target, response),
    solve: () => [...target],
    sample: (r) => sampleResponse(target, story, r),
  };
}

export const summary: TaskDefinition = {
  name: 'summary',
  description: 'List the distinct keywords of a short story in order of first appearance.',
  goldDescription: 'In-order F1 against the keyword list, split per word by telescoping: gold_i = F1(first i words) − F1(first i−1 words); F1 = 2·hits/(words + keywords). Sequence gold = F1.',
  minMargin: 0.1,
  maxResponseWords: MAX_WORDS,
  draw,
  vocabulary: [...new Set([...SUMMARY_KEYWORDS, ...STOP_WORDS, ...PROMPT_HEAD.split(' ')])].sort(),
};
