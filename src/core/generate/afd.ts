/**
 * AfD pair construction (spec §6.5, §8 #27 `afd_pair_mode`): preference pairs made from a
 * demonstration set, for any pairwise objective ("DPO w/ AfD", "AVA-p w/ AfD").
 *
 *   mode       chosen                 rejected
 *   init_sft   a sample of π_SFT      a sample of π_init     [DEFAULT; the AfD paper's recommendation]
 *   init_demo  the demonstration      a sample of π_init
 *   sft_demo   the demonstration      a sample of π_SFT
 *
 * π_init is the initial policy, π_SFT the same after SFT on the demonstrations. Rows are
 * written as a preference file (`prompt`, `chosen`, `rejected`) plus `afd`: where each side came
 * from and, on a built-in task, each side's gold reward (kept out of `gold`, which a preference
 * file reserves for labels drawn from the gold, so the evaluation never mistakes AfD's
 * constructed labels for them).
 */

export type AfdMode = 'init_sft' | 'init_demo' | 'sft_demo';
export type AfdSource = 'init' | 'sft' | 'demo';

export const AFD_MODES: Readonly<Record<AfdMode, { chosen: AfdSource; rejected: AfdSource }>> = {
  init_sft: { chosen: 'sft', rejected: 'init' },
  init_demo: { chosen: 'demo', rejected: 'init' },
  sft_demo: { chosen: 'demo', rejected: 'sft' },
};

export const DEFAULT_AFD_MODE: AfdMode = 'init_sft';

export interface AfdRow {
  prompt: string;
  chosen: string;
  rejected: string;
  afd: { mode: AfdMode; chosen_from: AfdSource; rejected_from: AfdSource; gold?: { chosen: number; rejected: number } };
}

/** The policies a mode samples from. */
export function afdPolicies(mode: AfdMode): ('init' | 'sft')[] {
  const { chosen, rejected } = AFD_MODES[mode];
  return (['init', 'sft'] as const).filter((p) => p === chosen || p === rejected);
}

/**
 * One pair per demonstration: `samples[policy][i]` is that policy's answer to demonstration i's
 * prompt. `gold`, when given, scores a response to a prompt.
 */
export function afdRows(demos: readonly { prompt: string; response: string }[], samples: Partial<Record<'init' | 'sft', readonly string[]>>, mode: AfdMode, gold?: (prompt: string, response: string) => number): AfdRow[] {
  const { chosen, rejected } = AFD_MODES[mode];
  const side = (source: AfdSource, i: number): string => {
    if (source === 'demo') return demos[i].response;
    const list = samples[source];
    if (!list || list.length !== demos.length) throw new Error(`afdRows: ${mode} needs one ${source} sample per demonstration`);
    return list[i];
  };
  return demos.map((d, i) => {
    const [c, r] = [side(chosen, i), side(rejected, i)];
    return { prompt: d.prompt, chosen: c, rejected: r, afd: { mode, chosen_from: chosen, rejected_from: rejected, ...(gold && { gold: { chosen: gold(d.prompt, c), rejected: gold(d.prompt, r) } }) } };
  });
}
