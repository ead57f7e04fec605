/**
 * AfD pairs sampled from trained runs (spec §6.5): one answer of π_init and/or π_SFT per
 * demonstration, put together by `afdRows` (afd.ts). Shared by `ava-lab afd` and by a grid cell
 * with `data.afd` (train/afdData.ts), so both build the same pairs from the same runs and seed.
 */
import { loadTrainedRun } from '../eval/trained.js';
import { generate } from './generate.js';
import { AFD_MODES, afdPolicies, afdRows, type AfdMode, type AfdRow } from './afd.js';

export interface AfdSampling {
  mode: AfdMode;
  /** Run folder of each policy the mode samples from. */
  runs: Partial<Record<'init' | 'sft', string>>;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export async function sampleAfdRows(demos: readonly { prompt: string; response: string }[], opts: AfdSampling, gold?: (prompt: string, response: string) => number): Promise<AfdRow[]> {
  const samples: Partial<Record<'init' | 'sft', string[]>> = {};
  for (const policy of afdPolicies(opts.mode)) {
    const dir = opts.runs[policy];
    if (!dir) throw new Error(`sampleAfdRows: pair mode ${opts.mode} needs a π_${policy} run`);
    const trained = await loadTrainedRun(dir);
    try {
      const tok = trained.tokenizer;
      const gens = generate(trained.models.policy, tok, demos.map((d) => tok.encode(d.prompt)), 1, {
        temperature: opts.temperature,
        topK: 0,
        topP: 1,
        maxNewTokens: opts.maxNewTokens,
        seed: opts.seed,
        policy: 'lm',
        beta: trained.run.objective.beta,
        batchSize: 64,
        useCache: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      samples[policy] = gens.map((g) => tok.decode(g.ids).trim());
      opts.log?.(`sampled ${gens.length} answers from π_${policy} (${dir})`);
    } finally {
      trained.dispose();
    }
  }
  return afdRows(demos, samples, opts.mode, gold);
}

/** How often the constructed label agrees with the gold reward, when the rows carry it. */
export function afdGoldAgreement(rows: readonly AfdRow[]): { chosen_better: number; tied: number; mean_chosen: number; mean_rejected: number } | null {
  if (rows.length === 0 || rows.some((r) => !r.afd.gold)) return null;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    chosen_better: rows.filter((r) => r.afd.gold!.chosen > r.afd.gold!.rejected).length / rows.length,
    tied: rows.filter((r) => r.afd.gold!.chosen === r.afd.gold!.rejected).length / rows.length,
    mean_chosen: mean(rows.map((r) => r.afd.gold!.chosen)),
    mean_rejected: mean(rows.map((r) => r.afd.gold!.rejected)),
  };
}

export function describeAfdMode(mode: AfdMode): string {
  return `mode ${mode}: chosen = ${AFD_MODES[mode].chosen}, rejected = ${AFD_MODES[mode].rejected}`;
}
