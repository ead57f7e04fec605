/**
 * Reward accuracy (spec §7, Table 1): the fraction of pairs with R(y⁺) > R(y⁻).
 */
import { AvaError } from '../errors.js';

/**
 * Fraction of pairs ranked correctly. A tie counts as wrong (`incorrect`, the strict
 * inequality [DEFAULT]) or as half a correct pair (`half`), spec §8 #30.
 */
export function rewardAccuracy(rPlus: number[], rMinus: number[], tie: 'incorrect' | 'half'): number {
  if (rPlus.length !== rMinus.length) throw new Error(`rewardAccuracy: ${rPlus.length} chosen rewards but ${rMinus.length} rejected`);
  if (rPlus.length === 0) throw new AvaError('data', 'reward accuracy needs at least one evaluation pair');
  const tieCredit = tie === 'half' ? 0.5 : 0;
  let correct = 0;
  rPlus.forEach((r, i) => {
    if (r > rMinus[i]) correct += 1;
    else if (r === rMinus[i]) correct += tieCredit;
  });
  return correct / rPlus.length;
}
