/**
 * `summary` (in the spirit of OpenAI TL;DR, scored like ROUGE-1): name the keywords of a
 * short story.
 *
 * Prompt: a sentence of 2–3 distinct keywords (one may come back once), each after one or
 * two stop words, then "tldr :", e.g. "the fox saw a river near the fox tldr :". The marker
 * ends the story: the model reads prompt and response as one word sequence, so without it a
 * response of keywords would look like more story.
 * Target: the distinct keywords of the story ("fox river"), k of them; the exact solver says
 * them in order of first appearance.
 *
 * Gold: a clipped unigram F1 (ROUGE-1 F1 against the keyword set, word order free) split per
 * word by telescoping over prefixes. A response word is a hit when it is a keyword of the
 * story not said before in the response (so repeats, stop words and keywords absent from the
 * story miss). With h_i hits among the first i words, F1_i = 2·h_i / (i + k) (precision h/i,
 * recall h/k) and
 *   gold_i = F1_i − F1_{i−1},   Σ_i gold_i = F1 of the whole response ∈ [0, 1].
 * Each word's gold depends only on the words before it; hits are positive, misses after the
 * first hit negative. Sampled responses copy the story with more or fewer of its stop words
 * and repeats, so most misses are visible word by word without the prompt; keywords absent
 * from the story are told apart only by looking back at it.
 */
import { chance, pick, randInt, shuffled, type Rng } from './random.js';
import type { TaskDefinition, TaskInstance } from './task.js';

export const SUMMARY_KEYWORDS: readonly string[] = [
  'fox', 'dog', 'river', 'forest', 'king', 'castle', 'ship', 'storm', 'dragon', 'horse', 'wolf', 'queen',
]; // prettier-ignore
const STOP_WORDS = ['the', 'a', 'and', 'near', 'with', 'saw'];
const PROMPT_TAIL = 'tldr :';
const MAX_WORDS = 8;
/** Corruption rates of a response of quality q, each multiplied by 1 − q (see sampleResponse). */
const CORRUPT = { drop: 0.5, copy: 0.7, distractor: 0.3 } as const;

/** Gold reward of each response word: prefix-telescoped clipped unigram F1 against `target`. */
export function summaryGold(target: readonly string[], response: readonly string[]): number[] {
  const k = target.length;
  const said = new Set<string>();
  let hits = 0;
  let previousF1 = 0;
  return response.map((w, i) => {
    if (target.includes(w) && !said.has(w)) hits++;
    said.add(w);
    const f1 = (2 * hits) / (i + 1 + k);
    const gold = f1 - previousF1;
    previousF1 = f1;
    return gold;
  });
}

/** A sentence whose keywords, in first-appearance order, are `target`; one may come back once. */
function storySentence(target: readonly string[], rng: Rng): string[] {
  const mentions = [...target];
  if (chance(rng, 0.5)) {
    const i = randInt(rng, 0, target.length - 1);
    mentions.splice(randInt(rng, i + 1, mentions.length), 0, target[i]);
  }
  return mentions.flatMap((w) => [...Array.from({ length: randInt(rng, 1, 2) }, () => pick(rng, STOP_WORDS)), w]);
}

/**
 * Reads the story left to right and keeps what a summary of quality q ∈ [0,1] would keep:
 * the first mention of a keyword with probability 1 − (1 − q)·CORRUPT.drop, a stop word or
 * a keyword's later mention (copying the story verbatim) with probability
 * (1 − q)·CORRUPT.copy, and after a kept keyword a keyword absent from the story with
 * probability (1 − q)·CORRUPT.distractor.
 */
function sampleResponse(target: readonly string[], story: readonly string[], rng: Rng): string[] {
  const bad = 1 - rng(); // 1 − q
  const distractors = SUMMARY_KEYWORDS.filter((w) => !target.includes(w));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const w of story) {
    const firstMention = target.includes(w) && !seen.has(w);
    seen.add(w);
    if (!firstMention) {
      if (chance(rng, CORRUPT.copy * bad)) out.push(w);
      continue;
    }
    if (!chance(rng, CORRUPT.drop * bad)) out.push(w);
    if (chance(rng, CORRUPT.distractor * bad)) out.push(pick(rng, distractors));
  }
  if (out.length === 0) out.push(pick(rng, STOP_WORDS)); // never empty
  return out.slice(0, MAX_WORDS);
}

function draw(rng: Rng): TaskInstance {
  const target = shuffled(rng, SUMMARY_KEYWORDS).slice(0, randInt(rng, 2, 3));
  const story = storySentence(target, rng);
  return {
    prompt: `${story.join(' ')} ${PROMPT_TAIL}`,
    gold: (response) => summaryGold(target, response),
    solve: () => [...target],
    sample: (r) => sampleResponse(target, story, r),
  };
}

/** The target of a story prompt: its distinct keywords in order of first appearance. */
function goldOf(prompt: string): ((response: readonly string[]) => number[]) | null {
  if (!prompt.endsWith(` ${PROMPT_TAIL}`)) return null;
  const words = prompt.slice(0, -PROMPT_TAIL.length - 1).split(' ');
  if (!words.every((w) => STOP_WORDS.includes(w) || SUMMARY_KEYWORDS.includes(w))) return null;
  const target = [...new Set(words.filter((w) => SUMMARY_KEYWORDS.includes(w)))];
  return target.length === 0 ? null : (response) => summaryGold(target, response);
}

export const summary: TaskDefinition = {
  name: 'summary',
  description: 'Name the distinct keywords of a short story (scored like ROUGE-1).',
  goldDescription:
    'Clipped unigram F1 against the story’s distinct keywords, split per word by telescoping: gold_i = F1(first i words) − F1(first i−1 words), F1 = 2·hits/(words + keywords), a hit being a story keyword not said before. Sequence gold = F1.',
  minMargin: 0.3,
  maxResponseWords: MAX_WORDS,
  draw,
  goldOf,
  vocabulary: [...new Set([...SUMMARY_KEYWORDS, ...STOP_WORDS, ...PROMPT_TAIL.split(' ')])].sort(),
};
