/**
 * `ava-lab sample <run_dir> <prompts.jsonl>`: answers sampled from a trained run's LM
 * (core/generate/generate.ts), one JSON line per (prompt, sample) on stdout or in --out. Rows
 * give the source line, the prompt, the sample number, the response text, its token count, why
 * it ended (eos or length), its summed policy log-probability and, for a built-in task's
 * prompts, its gold reward. Defaults are those of the experiment's `winrates:` section.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { DEFAULT_WINRATES, type BackendChoice } from '../../core/experiment/config.js';
import { initBackend } from '../../core/engine/backend.js';
import { configuredBackend, loadTrainedRun } from '../../core/eval/trained.js';
import { fieldValue } from '../../core/data/dataset.js';
import { generate, generateOptionsProblem, type GenerateOptions } from '../../core/generate/generate.js';
import { goldReward } from '../../core/eval/judges.js';
import { getTask } from '../../core/tasks/index.js';
import { writeTextAtomic } from '../../core/run/files.js';
import type { Reporter } from '../reporter.js';

const USAGE =
  'usage: ava-lab sample <run_dir> <prompts.jsonl> [--n N] [--temperature T] [--top-k K] [--top-p P] [--max-new-tokens M] [--policy lm|q] [--seed S] [--batch-size B] [--no-cache] [--field KEY] [--out FILE]';

function num(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new AvaError('usage', `--${flag} must be a number, got '${value}'`);
  return n;
}

/** The prompts of a JSONL file (field `field`), with their 1-based line numbers. */
function readPrompts(path: string, field: string): { line: number; prompt: string }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AvaError('usage', `cannot read the prompts file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: path });
  }
  const out: { line: number; prompt: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch {
      throw new AvaError('data', 'not a JSON line', { file: path, line: i + 1 });
    }
    const prompt = typeof row === 'string' ? row : fieldValue((row ?? {}) as Record<string, unknown>, field);
    if (typeof prompt !== 'string') throw new AvaError('data', `no string field "${field}" (choose another with --field)`, { file: path, line: i + 1, key: field });
    out.push({ line: i + 1, prompt });
  });
  if (out.length === 0) throw new AvaError('data', 'the prompts file has no prompts', { file: path });
  return out;
}

export async function sampleCommand(argv: string[], rep: Reporter, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      n: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      'max-new-tokens': { type: 'string' },
      policy: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      'no-cache': { type: 'boolean' },
      field: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 2) throw new AvaError('usage', USAGE);
  const [runDir, promptsFile] = positionals;
  const policy = values.policy ?? DEFAULT_WINRATES.generation_policy;
  if (policy !== 'lm' && policy !== 'q') throw new AvaError('usage', `--policy must be lm or q, got '${policy}'`);
  const n = num('n', values.n, 1);
  if (!Number.isInteger(n) || n < 1) throw new AvaError('usage', `--n must be a positive integer, got '${values.n}'`);
  await initBackend((values.backend as BackendChoice | undefined) ?? configuredBackend(runDir), (level, msg) => rep.log(level, msg));
  const trained = await loadTrainedRun(runDir);
  try {
    const opts: GenerateOptions = {
      temperature: num('temperature', values.temperature, DEFAULT_WINRATES.temperature),
      topK: num('top-k', values['top-k'], DEFAULT_WINRATES.top_k),
      topP: num('top-p', values['top-p'], DEFAULT_WINRATES.top_p),
      maxNewTokens: num('max-new-tokens', values['max-new-tokens'], DEFAULT_WINRATES.max_new_tokens),
      seed: num('seed', values.seed, 0),
      policy,
      beta: trained.run.objective.beta,
      batchSize: num('batch-size', values['batch-size'], 64),
      useCache: !values['no-cache'],
      signal,
      onProgress: (done, total) => rep.log('info', `sampled ${done}/${total}`),
    };
    const problem = generateOptionsProblem(opts);
    if (problem) throw new AvaError('usage', problem);
    const prompts = readPrompts(promptsFile, values.field ?? (trained.run.data.fields.prompt || 'prompt'));
    const tok = trained.tokenizer;
    const task = trained.run.data.task ? getTask(trained.run.data.task) : null;
    const t0 = performance.now();
    const gens = generate(trained.models.policy, tok, prompts.map((p) => tok.encode(p.prompt)), n, opts);
    const seconds = (performance.now() - t0) / 1000;
    const tokens = gens.reduce((s, g) => s + g.logp.length, 0);
    const rows = gens.map((g) => {
      const { line, prompt } = prompts[g.prompt];
      const response = tok.decode(g.ids).trim();
      const gold = task?.goldOf(prompt) ? goldReward(task, prompt, response) : undefined;
      return { line, prompt, sample: g.sample, response, tokens: g.ids.length, finish: g.finish, logp: Number(g.logp.reduce((s, x) => s + x, 0).toFixed(6)), ...(gold !== undefined && { gold }), ...(g.promptTruncated > 0 && { prompt_truncated: g.promptTruncated }) };
    });
    const text = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    if (values.out) {
      writeTextAtomic(values.out, text);
      rep.print(`Written: ${values.out} (${rows.length} samples)`);
    } else process.stdout.write(text);
    rep.log('info', `${rows.length} samples, ${tokens} tokens in ${seconds.toFixed(2)} s (${(tokens / seconds).toFixed(0)} tokens/s${opts.useCache ? '' : ', no cache'})`);
    return EXIT.ok;
  } finally {
    trained.dispose();
  }
}
