/**
 * Win / tie / lose (spec §7, Tables 2-5): per-prompt verdicts of system A against an opponent B,
 * their shares with 95% Wilson intervals, the sign test of wins against losses, and the paired
 * bootstrap that compares two systems' verdicts on the same prompts.
 *
 * Judging both presentation orders (spec §8 #29, `judge_swap_positions`) gives two preferences
 * per prompt; `tie_rule` turns them into one verdict:
 *   both_orders_agree [DEFAULT]  win = A preferred in both orders, lose = B preferred in both,
 *                                tie otherwise (the spec's reading of the paper)
 *   sum_of_orders                each order scores +1 (A), 0 (tie), −1 (B); the sign of the sum
 */
import { binomialTwoSidedP, pairedBootstrap, wilsonInterval, type BootstrapComparison, type Proportion } from './stats.js';

export type Verdict = 'win' | 'tie' | 'lose';
/** Which answer one judgement prefers, in A/B terms (after undoing the presentation order). */
export type Preference = 'a' | 'b' | 'tie';
export type TieRule = 'both_orders_agree' | 'sum_of_orders';
export const TIE_RULES: readonly TieRule[] = ['both_orders_agree', 'sum_of_orders'];

/** One verdict from the judgement of each presentation order (one order when not swapped). */
export function combineOrders(prefs: readonly Preference[], rule: TieRule = 'both_orders_agree'): Verdict {
  if (prefs.length === 0) throw new Error('combineOrders: no judgement');
  if (rule === 'both_orders_agree') {
    if (prefs.every((p) => p === 'a')) return 'win';
    if (prefs.every((p) => p === 'b')) return 'lose';
    return 'tie';
  }
  const sum = prefs.reduce((s, p) => s + (p === 'a' ? 1 : p === 'b' ? -1 : 0), 0);
  return sum > 0 ? 'win' : sum < 0 ? 'lose' : 'tie';
}

/** A verdict from two scores (gold or reward model): tie when they differ by at most `tieMargin`. */
export function verdictFromScores(a: number, b: number, tieMargin: number): Verdict {
  const d = a - b;
  return d > tieMargin ? 'win' : d < -tieMargin ? 'lose' : 'tie';
}

export interface WinTieLose {
  n: number;
  win: Proportion;
  tie: Proportion;
  lose: Proportion;
  /** Sign test of wins against losses (ties left out), two-sided. */
  p: number;
}

export function winTieLose(verdicts: readonly Verdict[]): WinTieLose {
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const [w, t, l] = [count('win'), count('tie'), count('lose')];
  const n = verdicts.length;
  return { n, win: wilsonInterval(w, n), tie: wilsonInterval(t, n), lose: wilsonInterval(l, n), p: binomialTwoSidedP(w, w + l) };
}

/** win 1, tie ½, lose 0: the per-prompt score a win rate averages. */
export function verdictScore(v: Verdict): number {
  return v === 'win' ? 1 : v === 'tie' ? 0.5 : 0;
}

/** Paired bootstrap of the score difference of two verdict lists over the same prompts. */
export function compareVerdicts(a: readonly Verdict[], b: readonly Verdict[], seed = 0): BootstrapComparison {
  return pairedBootstrap(a.map(verdictScore), b.map(verdictScore), 10000, seed);
}
