/**
 * The win-rate stage of a grid (config.ts WinratesConfig): for each seed, sample candidates from
 * the generator, pick each system's answer, judge every comparison, and write plain files:
 *
 *   <grid>/winrates/seed-<n>/samples.jsonl    every candidate: prompt, sample, response, gold, R(y) per bon: variant
 *   <grid>/winrates/seed-<n>/answers.jsonl    each system's answer per prompt (and its gold)
 *   <grid>/winrates/seed-<n>/verdicts.jsonl   per comparison and prompt: both answers, the verdict, the judge's scores or orders
 *   <grid>/winrates/seed-<n>/ppo-<variant>/   a run directory: config.yaml (generator, reward model,
 *                                             the ppo section), status.json, metrics.jsonl (each
 *                                             iteration under TRL's metric names; ../rl/trainPpo.ts)
 *   <grid>/winrates/winrates.json             WinratesReport (./report.ts), what `ava-lab report` and the extension read
 *   <grid>/winrates/winrates.md               the same as tables
 *
 * The models of seed n are the grid's cells of seed n; every cell a comparison needs must have
 * finished. Prompts are the first `prompts` rows of the evaluation file.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { AvaError } from '../errors.js';
import type { ExperimentConfig, RunConfig } from '../experiment/config.js';
import { variantNames } from '../experiment/grid.js';
import { demoText, encodeSeq, wordGoldOnTokens } from '../data/dataset.js';
import type { DemoExample, EncodedSeq } from '../data/types.js';
import { readDemos } from '../eval/readout.js';
import { tokenRewardVariants } from '../experiment/load.js';
import type { SequenceRewards } from '../../protocol/events.js';
import { goldJudge, goldReward, commandJudge, responseWords, scoreJudge, type Judge, type JudgeItem } from '../eval/judges.js';
import { round6 } from '../tasks/random.js';
import { loadTrainedRun, type TrainedRun } from '../eval/trained.js';
import { generate, type GenerateOptions } from '../generate/generate.js';
import { scoreTexts, tokenScoresOfSeqs } from '../generate/score.js';
import { cellDirName, RUN_CONFIG } from '../run/layout.js';
import { readStatus } from '../run/status.js';
import { writeJsonAtomic, writeTextAtomic } from '../run/files.js';
import { getTask } from '../tasks/index.js';
import type { TaskDefinition } from '../tasks/task.js';
import { dataFilesFor } from '../train/data.js';
import { BASE_VARIANT_NAME, needsGenerator, parseComparison, systemName, variantOf, type Comparison, type System } from './systems.js';
import { trainPpo } from '../rl/trainPpo.js';
import { ppoRunDir, WINRATES_DIR, WINRATES_MARKDOWN, WINRATES_REPORT } from './layout.js';
import { buildReport, winratesMarkdown, type SeedVerdicts, type WinratesReport } from './report.js';

export { WINRATES_DIR, WINRATES_MARKDOWN, WINRATES_REPORT } from './layout.js';

export interface WinratesHooks {
  log(level: 'info' | 'warn', message: string): void;
  signal?: AbortSignal;
}

export interface VerdictRow {
  comparison: string;
  prompt_index: number;
  prompt: string;
  a: string;
  b: string;
  verdict: 'win' | 'tie' | 'lose';
  scores?: [number, number];
  orders?: string[];
  /** Gold of each whitespace-separated word of a and b (built-in tasks). */
  a_gold_words?: number[];
  b_gold_words?: number[];
  /**
   * The per-token rewards of a and b (spec §5 readout, as in the Token rewards panel) from the
   * AVA reward model `rewards_by` (a cell, e.g. `ava-p/seed-0`): the comparison's own AVA
   * system's, else the grid's first variant with per-token rewards.
   */
  a_rewards?: SequenceRewards;
  b_rewards?: SequenceRewards;
  rewards_by?: string;
}

/** Runs the stage for every seed and writes the files above; returns the report. */
export async function runWinrates(gridDir: string, exp: ExperimentConfig, expFile: string, hooks: WinratesHooks): Promise<WinratesReport> {
  const w = exp.winrates;
  const variants = variantNames(exp);
  const comparisons = w.compare.map((line) => {
    const c = parseComparison(line, variants);
    if (typeof c === 'string') throw new AvaError('config', c, { file: expFile, key: 'winrates.compare' });
    return c;
  });
  if (comparisons.length === 0) throw new AvaError('config', 'winrates.compare is empty: there is nothing to compare', { file: expFile, key: 'winrates.compare' });
  const perSeed: SeedVerdicts[] = [];
  let judgeName = '';
  for (const seed of exp.seeds) {
    if (hooks.signal?.aborted) throw new AvaError('usage', 'the win-rate stage was cancelled');
    const result = await runSeed(gridDir, exp, expFile, seed, comparisons, hooks);
    judgeName = result.judge;
    perSeed.push(result.verdicts);
  }
  const report = buildReport({ experiment: exp.name, judge: judgeName, config: w, comparisons, seeds: perSeed });
  const dir = join(gridDir, WINRATES_DIR);
  writeJsonAtomic(join(dir, WINRATES_REPORT), report);
  writeTextAtomic(join(dir, WINRATES_MARKDOWN), winratesMarkdown(report));
  return report;
}

async function runSeed(gridDir: string, exp: ExperimentConfig, expFile: string, seed: number, comparisons: Comparison[], hooks: WinratesHooks): Promise<{ judge: string; verdicts: SeedVerdicts }> {
  const w = exp.winrates;
  const variants = variantNames(exp);
  const runs = new Map<string, TrainedRun>();
  const model = async (variant: string): Promise<TrainedRun> => {
    const cached = runs.get(variant);
    if (cached) return cached;
    const dir = join(gridDir, cellDirName(variant, seed));
    const status = readStatus(dir)?.status;
    if (status !== 'finished') throw new AvaError('data', `the win rates need the trained cell ${cellDirName(variant, seed)}, which is ${status ?? 'missing'}`, { file: dir });
    const trained = await loadTrainedRun(dir);
    runs.set(variant, trained);
    return trained;
  };
  try {
    const first = await model(w.generator !== null ? variantOf(w.generator, variants)! : firstVariantOf(comparisons, variants));
    const prompts = await splitPrompts(first.run, gridDir, w.prompts, 'eval');
    const task = first.run.data.task ? getTask(first.run.data.task) : null;
    const gold = (prompt: string, response: string) => (task ? goldReward(task, prompt, response) : undefined);
    const sampling = (s: number): GenerateOptions => ({
      temperature: w.temperature,
      topK: w.top_k,
      topP: w.top_p,
      maxNewTokens: w.max_new_tokens,
      seed: s,
      policy: w.generation_policy,
      beta: first.run.objective.beta,
      batchSize: 64,
      useCache: true,
      signal: hooks.signal,
    });
    const sample = (trained: TrainedRun, n: number): string[][] => {
      const ids = prompts.map((p) => trained.tokenizer.encode(p));
      const gens = generate(trained.models.policy, trained.tokenizer, ids, n, { ...sampling(seed), beta: trained.run.objective.beta });
      return prompts.map((_, p) => gens.slice(p * n, (p + 1) * n).map((g) => trained.tokenizer.decode(g.ids).trim()));
    };

    /** PPO of the generator against the variant's reward model, then one answer per prompt. */
    const ppoAnswers = async (variant: string): Promise<string[]> => {
      const gen = await model(variantOf(w.generator!, variants)!);
      const rm = await model(variant);
      const dir = ppoRunDir(gridDir, seed, variant || BASE_VARIANT_NAME);
      rmSync(dir, { recursive: true, force: true });
      const identity = {
        name: exp.name,
        variant: systemName({ kind: 'ppo', variant }),
        seed,
        generator: cellDirName(gen.run.variant, seed),
        reward_model: cellDirName(variant, seed),
        max_new_tokens: w.max_new_tokens,
        ppo: w.ppo,
      };
      writeTextAtomic(join(dir, RUN_CONFIG), `# PPO of the generator against the reward model (written by the win-rate stage)\n${yamlStringify(identity)}`);
      hooks.log('info', `seed ${seed}: PPO of ${cellDirName(gen.run.variant, seed)} against the reward model of ${cellDirName(variant, seed)} (${w.ppo.steps} steps)`);
      const trainPrompts = await splitPrompts(gen.run, gridDir, 0, 'train');
      const { policy } = await trainPpo({
        run: gen.run,
        tokenizer: gen.tokenizer,
        weights: gen.models.policy.variables(),
        prompts: trainPrompts,
        score: (items) => scoreTexts(rm, items, 32, w.ppo.rl_reward_mode),
        ...(w.ppo.rl_reward_delivery === 'dense' && { tokenScores: denseScorer(gen, rm, expFile) }),
        ...(task && { gold: (prompt: string, response: string) => gold(prompt, response)! }),
        ppo: w.ppo,
        maxNewTokens: w.max_new_tokens,
        seed,
        dir,
        signal: hooks.signal,
        log: (m) => hooks.log('info', `seed ${seed}: ${m}`),
      });
      try {
        return sample({ ...gen, models: { policy, reference: null } }, 1).map((c) => c[0]);
      } finally {
        policy.dispose();
      }
    };

    // Candidates of the generator, scored by every bon: variant (and the gold).
    const systems = uniqueSystems(comparisons);
    const answers = new Map<string, string[]>();
    const sampleRows: Record<string, unknown>[] = [];
    if (needsGenerator(comparisons)) {
      const gen = await model(variantOf(w.generator!, variants)!);
      const n = systems.some((s) => s.kind === 'bon' || s.kind === 'bon-gold') ? w.bon_n : 1;
      hooks.log('info', `seed ${seed}: ${prompts.length} prompts × ${n} samples from ${cellDirName(gen.run.variant, seed)}`);
      const candidates = sample(gen, n);
      const flat = prompts.flatMap((prompt, p) => candidates[p].map((response, s) => ({ prompt, response, p, s })));
      const scores = new Map<string, number[]>();
      for (const s of systems) {
        if (s.kind !== 'bon') continue;
        scores.set(systemName(s), scoreTexts(await model(s.variant), flat));
      }
      const golds = task ? flat.map((x) => gold(x.prompt, x.response)!) : null;
      flat.forEach((x, i) => {
        sampleRows.push({
          prompt_index: x.p,
          prompt: x.prompt,
          sample: x.s,
          response: x.response,
          ...(golds && { gold: golds[i] }),
          scores: Object.fromEntries([...scores].map(([name, r]) => [name, r[i]])),
        });
      });
      for (const s of systems) {
        const name = systemName(s);
        if (s.kind === 'stochastic') answers.set(name, candidates.map((c) => c[0]));
        else if (s.kind === 'bon') answers.set(name, pickBest(candidates, scores.get(name)!, n));
        else if (s.kind === 'bon-gold') answers.set(name, pickBest(candidates, golds!, n));
      }
    }
    for (const s of systems) {
      if (s.kind !== 'policy') continue;
      hooks.log('info', `seed ${seed}: one answer per prompt from ${cellDirName(s.variant, seed)}`);
      answers.set(systemName(s), sample(await model(s.variant), 1).map((c) => c[0]));
    }

    for (const s of systems) {
      if (s.kind !== 'ppo') continue;
      answers.set(systemName(s), await ppoAnswers(s.variant));
    }

    const judge = await makeJudge(exp, expFile, task, seed, model);
    const withRewards = tokenRewardVariants(exp);
    /** Per-token rewards of answers to the prompts under a variant's reward model (readout as the Token rewards panel's). */
    const readCache = new Map<string, (SequenceRewards | undefined)[]>();
    const readAnswers = async (variant: string, system: System): Promise<(SequenceRewards | undefined)[]> => {
      const key = `${variant}\u0000${systemName(system)}`; // a system recurs across comparisons: read its answers once
      const cached = readCache.get(key);
      if (cached) return cached;
      const texts = answers.get(systemName(system))!;
      const rm = await model(variant);
      const slots: (DemoExample | null)[] = texts.map((text, i) => {
        const seq = encodeSeq(prompts[i], text, rm.tokenizer, rm.run.model.context, 'prompt_left');
        if (seq === null) return null;
        const goldWords = task?.goldOf(prompts[i])?.(responseWords(text));
        const goldTokens = goldWords && wordGoldOnTokens(goldWords.map(round6), text, rm.tokenizer, seq.ids.length - 1 - seq.promptLen);
        return { line: i + 1, seq, ...(goldTokens && { goldTokens }) };
      });
      const read = readDemos(rm.models, slots.filter((d): d is DemoExample => d !== null), rm.run, rm.tokenizer);
      let k = 0;
      const out = slots.map((d) => (d === null ? undefined : read[k++].response));
      readCache.set(key, out);
      return out;
    };
    const verdicts: VerdictRow[] = [];
    const perComparison: SeedVerdicts['comparisons'] = [];
    for (const c of comparisons) {
      const [a, b] = [answers.get(systemName(c.a))!, answers.get(systemName(c.b))!];
      const items: JudgeItem[] = prompts.map((prompt, i) => ({ prompt, a: a[i], b: b[i] }));
      hooks.log('info', `seed ${seed}: judging ${c.text} on ${items.length} prompts (${judge.name})`);
      const judged = await judge.judge(items, hooks.signal);
      const words = (prompt: string, text: string) => task?.goldOf(prompt)?.(responseWords(text)).map(round6);
      const by = attributionVariant(c, variants, withRewards);
      const [aRewards, bRewards] = by === null ? [[], []] : [await readAnswers(by, c.a), await readAnswers(by, c.b)];
      judged.forEach((j, i) => {
        const [aWords, bWords] = [words(items[i].prompt, items[i].a), words(items[i].prompt, items[i].b)];
        verdicts.push({
          comparison: c.text,
          prompt_index: i,
          prompt: items[i].prompt,
          a: items[i].a,
          b: items[i].b,
          verdict: j.verdict,
          ...(j.scores && { scores: j.scores }),
          ...(j.orders && { orders: j.orders }),
          ...(aWords && { a_gold_words: aWords }),
          ...(bWords && { b_gold_words: bWords }),
          ...(aRewards[i] && bRewards[i] && { a_rewards: aRewards[i], b_rewards: bRewards[i], rewards_by: cellDirName(by!, seed) }),
        });
      });
      perComparison.push({ text: c.text, verdicts: judged.map((j) => j.verdict) });
    }

    const dir = join(gridDir, WINRATES_DIR, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
    const answerRows = [...answers].flatMap(([system, list]) => list.map((response, i) => ({ prompt_index: i, prompt: prompts[i], system, response, ...(task && { gold: gold(prompts[i], response) }) })));
    writeTextAtomic(join(dir, 'samples.jsonl'), jsonl(sampleRows));
    writeTextAtomic(join(dir, 'answers.jsonl'), jsonl(answerRows));
    writeTextAtomic(join(dir, 'verdicts.jsonl'), jsonl(verdicts));
    const goldBySystem = task ? Object.fromEntries([...answers].map(([name, list]) => [name, list.map((r, i) => gold(prompts[i], r)!)])) : {};
    return { judge: judge.name, verdicts: { seed, prompts: prompts.length, comparisons: perComparison, gold: goldBySystem } };
  } finally {
    for (const r of runs.values()) r.dispose();
  }
}

function firstVariantOf(cs: Comparison[], variants: readonly string[]): string {
  for (const c of cs) for (const s of [c.a, c.b]) if (s.kind === 'policy' || s.kind === 'bon' || s.kind === 'ppo') return s.variant;
  return variants[0];
}

/**
 * Whose per-token rewards colour a comparison's answers: the comparison's first system built
 * on an AVA reward model or policy (bon:, ppo:, policy:), else the grid's first AVA variant;
 * null when the grid has none.
 */
export function attributionVariant(c: Comparison, variants: readonly string[], withRewards: readonly string[]): string | null {
  for (const s of [c.a, c.b]) if ((s.kind === 'bon' || s.kind === 'ppo' || s.kind === 'policy') && withRewards.includes(s.variant)) return s.variant;
  return variants.find((v) => withRewards.includes(v)) ?? null;
}

function uniqueSystems(cs: Comparison[]): System[] {
  const seen = new Map<string, System>();
  for (const c of cs) for (const s of [c.a, c.b]) seen.set(systemName(s), s);
  return [...seen.values()];
}

/** Per prompt, the candidate with the highest score (the first of equals). */
export function pickBest(candidates: string[][], scores: readonly number[], n: number): string[] {
  return candidates.map((list, p) => {
    let best = 0;
    for (let s = 1; s < n; s++) if (scores[p * n + s] > scores[p * n + best]) best = s;
    return list[best];
  });
}

/** The first `limit` prompts of the run's evaluation (or training) file; 0: all. */
async function splitPrompts(run: RunConfig, gridDir: string, limit: number, split: 'eval' | 'train'): Promise<string[]> {
  const files = await dataFilesFor(run, join(gridDir, 'data'));
  const path = split === 'train' ? files.train : (files.eval ?? files.train);
  const lines = readFileSync(path, 'utf8').split('\n');
  const prompts: string[] = [];
  for (let i = 0; i < lines.length && (limit === 0 || prompts.length < limit); i++) {
    if (lines[i].trim() === '') continue;
    try {
      prompts.push(demoText(JSON.parse(lines[i]) as Record<string, unknown>, run.data).prompt);
    } catch (e) {
      throw new AvaError('data', `cannot read a prompt: ${e instanceof Error ? e.message : String(e)}`, { file: path, line: i + 1 });
    }
  }
  if (prompts.length === 0) throw new AvaError('data', 'the evaluation file has no prompts', { file: path });
  return prompts;
}

async function makeJudge(exp: ExperimentConfig, expFile: string, task: TaskDefinition | null, seed: number, model: (v: string) => Promise<TrainedRun>): Promise<Judge> {
  const w = exp.winrates;
  if (w.judge === 'gold') {
    if (!task) throw new AvaError('config', 'the gold judge needs a built-in task (data.task)', { file: expFile, key: 'winrates.judge' });
    return goldJudge(task, w.tie_margin);
  }
  if (w.judge === 'reward_model') {
    const variant = variantOf(w.judge_variant ?? '', variantNames(exp));
    if (variant === null) throw new AvaError('config', 'judge reward_model needs winrates.judge_variant', { file: expFile, key: 'winrates.judge_variant' });
    const rm = await model(variant);
    return scoreJudge(`rm:${w.judge_variant}@seed-${seed}`, async (prompt, responses) => scoreTexts(rm, responses.map((response) => ({ prompt, response }))), w.tie_margin);
  }
  if (!w.judge_command) throw new AvaError('config', 'judge command needs winrates.judge_command', { file: expFile, key: 'winrates.judge_command' });
  return commandJudge(w.judge_command, { swap: w.judge_swap_positions, tieRule: w.tie_rule, timeoutMs: w.judge_timeout_s * 1000, cwd: dirname(expFile) });
}

/** Dense delivery (spec §8 #26) scores the policy's own ids: only with the very same tokenizer. */
function denseScorer(gen: TrainedRun, rm: TrainedRun, expFile: string): (seqs: EncodedSeq[]) => number[][] {
  if (JSON.stringify(gen.tokenizer.toJSON()) !== JSON.stringify(rm.tokenizer.toJSON())) {
    throw new AvaError('config', `winrates.ppo.rl_reward_delivery "dense" needs the reward model (${rm.runDir}) to share the policy's tokenizer (${gen.runDir}); theirs differ, so use "sparse_at_eos"`, { file: expFile, key: 'winrates.ppo.rl_reward_delivery' });
  }
  return (seqs) => tokenScoresOfSeqs(rm, seqs);
}
