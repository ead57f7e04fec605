/**
 * Datasets: JSONL rows ⇒ texts ⇒ token sequences (spec §1.2, §7).
 *
 * Rows
 *   preference     `prompt`, `chosen`, `rejected`; demonstration: `prompt`, `response`.
 *   Field names come from `data.fields`; a name may be a dotted path into nested objects
 *   (`info.post`), tried after the exact key. A missing or non-string field makes the line a
 *   bad line (`data.on_bad_line` applies) and the message names the field.
 *   HH style: when `fields.prompt` is "" in a preference file, chosen and rejected hold whole
 *   dialogues (Anthropic HH-RLHF). The prompt is then their longest common prefix cut just
 *   after its last "\n\nAssistant:", and chosen/rejected are the remainders.
 *   In a demonstration file, `fields.prompt` = "" means rows have no prompt.
 *   Demonstrations from a preference file (AVA-d / SFT, spec §7): the prompt and the chosen half.
 *   A row's `gold` object (built-in tasks) is kept: see `PairGoldJSON` / `DemoGoldJSON`.
 *
 * Sequences
 *   [BOS] + prompt tokens + response tokens + [EOS]; promptLen = 1 + prompt tokens, so the
 *   response mask is resp[j] = j >= promptLen and includes EOS (stopping is an action).
 *   Over `model.context` tokens, `data.truncation` decides:
 *     prompt_left  drop prompt tokens from the left (spec §9). In a pair both sides keep the
 *                  same prompt tokens (as many as the longer response leaves room for). When a
 *                  response alone (+ BOS + EOS) does not fit, the row is skipped and counted in
 *                  `skipped.tooLong`: cutting a response would change what was preferred.
 *     skip         skip the row, counted in `skipped.tooLong`.
 *     fail         throw an AvaError naming file:line and the lengths.
 *   Gold per-token rewards are attached only when they line up one-to-one with the response
 *   tokens (EOS excluded), i.e. with the `word` tokenizer on built-in task data.
 */
import { AvaError, type ErrorLocation } from '../errors.js';
import type { DataConfig } from '../experiment/config.js';
import { readJsonl, type BadLine, type JsonlReader } from './jsonl.js';
import type { Tokenizer } from './tokenizer.js';
import type { DemoExample, EncodedSeq, PairExample } from './types.js';

export const HH_ASSISTANT_MARKER = '\n\nAssistant:';

/** The `gold` object of a preference row written by a built-in task. */
export interface PairGoldJSON {
  chosen: number;
  rejected: number;
  label_agrees: boolean;
  /** Probability that the stored label agrees with the gold ranking (noise model). */
  p_label_correct: number;
  /** Gold reward of each response word (the word tokenizer's split). */
  chosen_tokens: number[];
  rejected_tokens: number[];
}

/** The `gold` object of a demonstration row written by a built-in task. */
export interface DemoGoldJSON {
  reward: number;
  tokens: number[];
}

export interface PairText {
  prompt: string;
  chosen: string;
  rejected: string;
  gold?: PairGoldJSON;
}

export interface DemoText {
  prompt: string;
  response: string;
  goldTokens?: number[];
}

export type Truncation = DataConfig['truncation'];

export interface LoadResult<T> {
  examples: T[];
  skipped: { badLines: number; tooLong: number };
  /** The first few skipped bad lines, for the log. */
  badLines: BadLine[];
}

// ---------------------------------------------------------------------------------------------
// rows ⇒ texts

/** A row this loader cannot use; becomes a bad line under `data.on_bad_line`. */
class RowProblem extends Error {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

/** `row[path]`, or the dotted path `a.b.c` walked through nested objects. */
export function fieldValue(row: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(row, path)) return row[path];
  let value: unknown = row;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function stringField(row: Record<string, unknown>, path: string): string {
  const value = fieldValue(row, path);
  if (value === undefined) throw new RowProblem(`field "${path}" is missing`, path);
  if (typeof value !== 'string') throw new RowProblem(`field "${path}" must be a string, found ${value === null ? 'null' : typeof value}`, path);
  return value;
}

/**
 * HH style: the prompt is the longest common prefix of the two dialogues, cut just after
 * its last "\n\nAssistant:"; null when they share no such prefix.
 */
export function splitHHPrompt(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } | null {
  let common = 0;
  while (common < chosen.length && common < rejected.length && chosen[common] === rejected[common]) common++;
  const marker = chosen.lastIndexOf(HH_ASSISTANT_MARKER, common - HH_ASSISTANT_MARKER.length);
  if (marker < 0 || common < HH_ASSISTANT_MARKER.length) return null;
  const cut = marker + HH_ASSISTANT_MARKER.length;
  return { prompt: chosen.slice(0, cut), chosen: chosen.slice(cut), rejected: rejected.slice(cut) };
}

export function pairText(row: Record<string, unknown>, fields: DataConfig['fields']): PairText {
  const chosen = stringField(row, fields.chosen);
  const rejected = stringField(row, fields.rejected);
  const gold = pairGold(row.gold);
  if (fields.prompt !== '') return { prompt: stringField(row, fields.prompt), chosen, rejected, ...(gold && { gold }) };
  const split = splitHHPrompt(chosen, rejected);
  if (split === null) {
    throw new RowProblem(`"${fields.chosen}" and "${fields.rejected}" share no prompt ending in ${JSON.stringify(HH_ASSISTANT_MARKER)} (data.fields.prompt is "")`, fields.chosen);
  }
  return { ...split, ...(gold && { gold }) };
}

/** A demonstration: `prompt`/`response` of a demonstration file, or the chosen half of a preference row. */
export function demoText(row: Record<string, unknown>, data: DataConfig): DemoText {
  if (data.format === 'preference') {
    const pair = pairText(row, data.fields);
    return { prompt: pair.prompt, response: pair.chosen, ...(pair.gold && { goldTokens: pair.gold.chosen_tokens }) };
  }
  const prompt = data.fields.prompt === '' ? '' : stringField(row, data.fields.prompt);
  const response = stringField(row, data.fields.response);
  const goldTokens = demoGoldTokens(row.gold);
  return { prompt, response, ...(goldTokens && { goldTokens }) };
}

const isNumberArray = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => typeof v === 'number');

function pairGold(gold: unknown): PairGoldJSON | undefined {
  if (gold === null || typeof gold !== 'object') return undefined;
  const g = gold as Partial<PairGoldJSON>;
  const ok =
    typeof g.chosen === 'number' &&
    typeof g.rejected === 'number' &&
    typeof g.label_agrees === 'boolean' &&
    typeof g.p_label_correct === 'number' &&
    isNumberArray(g.chosen_tokens) &&
    isNumberArray(g.rejected_tokens);
  return ok ? (g as PairGoldJSON) : undefined;
}

function demoGoldTokens(gold: unknown): number[] | undefined {
  if (gold === null || typeof gold !== 'object') return undefined;
  const tokens = (gold as Partial<DemoGoldJSON>).tokens;
  return isNumberArray(tokens) ? tokens : undefined;
}

// ---------------------------------------------------------------------------------------------
// texts ⇒ sequences

function assemble(tok: Tokenizer, prompt: number[], response: number[]): EncodedSeq {
  return { ids: [tok.bos, ...prompt, ...response, tok.eos], promptLen: 1 + prompt.length };
}

function tooLongError(where: ErrorLocation, prompt: number, response: number, context: number): AvaError {
  const total = prompt + response + 2;
  return new AvaError('data', `the sequence has ${total} tokens (BOS + ${prompt} prompt + ${response} response + EOS), more than model.context = ${context} (data.truncation is "fail")`, where);
}

/**
 * The sequence of a prompt and response under a truncation policy (see the file comment);
 * null when the row is to be skipped as too long.
 */
export function encodeSeq(prompt: string, response: string, tok: Tokenizer, context: number, truncation: Truncation, where: ErrorLocation = {}): EncodedSeq | null {
  const fitted = fitPrompt(tok.encode(prompt), [tok.encode(response)], context, truncation, where);
  return fitted === null ? null : assemble(tok, fitted.prompt, fitted.responses[0]);
}

/** Chosen and rejected sequences sharing the same (possibly left-truncated) prompt tokens. */
export function encodePair(
  prompt: string,
  chosen: string,
  rejected: string,
  tok: Tokenizer,
  context: number,
  truncation: Truncation,
  where: ErrorLocation = {},
): { chosen: EncodedSeq; rejected: EncodedSeq } | null {
  const fitted = fitPrompt(tok.encode(prompt), [tok.encode(chosen), tok.encode(rejected)], context, truncation, where);
  if (fitted === null) return null;
  const [c, r] = fitted.responses;
  return { chosen: assemble(tok, fitted.prompt, c), rejected: assemble(tok, fitted.prompt, r) };
}

function fitPrompt(prompt: number[], responses: number[][], context: number, truncation: Truncation, where: ErrorLocation): { prompt: number[]; responses: number[][] } | null {
  const longest = Math.max(...responses.map((r) => r.length));
  const room = context - 2 - longest; // prompt tokens that fit next to the longest response
  if (prompt.length <= room) return { prompt, responses };
  if (truncation === 'fail') throw tooLongError(where, prompt.length, longest, context);
  if (truncation === 'skip' || room < 0) return null;
  return { prompt: prompt.slice(prompt.length - room), responses };
}

/** Gold per-token rewards, if they line up with the response tokens (EOS excluded). */
function alignedGold(gold: number[] | undefined, seq: EncodedSeq, response: string, tok: Tokenizer): number[] | undefined {
  if (gold === undefined) return undefined;
  const n = seq.ids.length - 1 - seq.promptLen;
  if (gold.length === n) return gold;
  return wordGoldOnTokens(gold, response, tok, n);
}

/**
 * Gold given per whitespace-separated word (the built-in tasks), on a tokenizer that splits
 * words into several tokens (GPT-2 BPE): each word's gold goes on its last token that holds a
 * letter (where the word has been read; trailing punctuation is its own token), and 0 on its
 * other tokens, so the sum is kept. Undefined when the
 * words do not encode to exactly the response's tokens (then no gold is attached).
 */
export function wordGoldOnTokens(gold: readonly number[], response: string, tok: Tokenizer, tokens: number): number[] | undefined {
  const words = response.split(' ');
  if (words.length !== gold.length) return undefined;
  const out: number[] = [];
  words.forEach((w, i) => {
    const pieces = tok.encode(i === 0 ? w : ` ${w}`);
    // The last piece that holds a letter ("hopeless" of "hopeless."), else the last piece.
    let at = pieces.length - 1;
    while (at > 0 && !/\p{L}/u.test(tok.decode([pieces[at]]))) at--;
    pieces.forEach((_, k) => out.push(k === at ? gold[i] : 0));
  });
  return out.length === tokens ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// files ⇒ examples

async function loadRows<T>(
  path: string,
  data: DataConfig,
  context: number,
  signal: AbortSignal | undefined,
  toExample: (row: Record<string, unknown>, line: number) => T | null,
): Promise<LoadResult<T>> {
  const reader: JsonlReader = readJsonl(path, { onBadLine: data.on_bad_line, signal });
  const examples: T[] = [];
  let tooLong = 0;
  for await (const { line, value } of reader) {
    let example: T | null;
    try {
      example = toExample(value, line);
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      reader.reject(line, e.message, e.key);
      continue;
    }
    if (example === null) tooLong++;
    else examples.push(example);
  }
  const skipped = { badLines: reader.stats.skipped, tooLong };
  if (examples.length === 0) {
    throw new AvaError('data', `no usable rows (${skipped.badLines} bad lines skipped, ${tooLong} longer than model.context = ${context})`, { file: path });
  }
  return { examples, skipped, badLines: reader.stats.badLines };
}

/** How one row is encoded: the file and line it came from (for errors), the data settings, the tokenizer and the context. */
export interface RowContext {
  file: string;
  line: number;
  data: DataConfig;
  tokenizer: Tokenizer;
  context: number;
}

/**
 * One preference row as an example; null when it is too long and the truncation policy skips it.
 * Throws a RowProblem (a bad line under `data.on_bad_line`) when a field is missing.
 */
export function pairExample(row: Record<string, unknown>, c: RowContext): PairExample | null {
  const text = pairText(row, c.data.fields);
  const seqs = encodePair(text.prompt, text.chosen, text.rejected, c.tokenizer, c.context, c.data.truncation, { file: c.file, line: c.line });
  if (seqs === null) return null;
  const example: PairExample = { line: c.line, ...seqs };
  if (text.gold !== undefined) {
    const g = text.gold;
    example.gold = { chosen: g.chosen, rejected: g.rejected, labelAgrees: g.label_agrees, pLabelCorrect: g.p_label_correct };
    const chosen = alignedGold(g.chosen_tokens, seqs.chosen, text.chosen, c.tokenizer);
    const rejected = alignedGold(g.rejected_tokens, seqs.rejected, text.rejected, c.tokenizer);
    if (chosen && rejected) example.goldTokens = { chosen, rejected };
  }
  return example;
}

/** One demonstration row (the chosen half of a preference row when `data.format` is `preference`). */
export function demoExample(row: Record<string, unknown>, c: RowContext): DemoExample | null {
  const text = demoText(row, c.data);
  const seq = encodeSeq(text.prompt, text.response, c.tokenizer, c.context, c.data.truncation, { file: c.file, line: c.line });
  if (seq === null) return null;
  const goldTokens = alignedGold(text.goldTokens, seq, text.response, c.tokenizer);
  return goldTokens ? { line: c.line, seq, goldTokens } : { line: c.line, seq };
}

/** Preference pairs of a JSONL file. */
export function loadPairs(path: string, data: DataConfig, tok: Tokenizer, context: number, signal?: AbortSignal): Promise<LoadResult<PairExample>> {
  return loadRows(path, data, context, signal, (row, line) => pairExample(row, { file: path, line, data, tokenizer: tok, context }));
}

/** Demonstrations of a JSONL file (the chosen halves when `data.format` is `preference`). */
export function loadDemos(path: string, data: DataConfig, tok: Tokenizer, context: number, signal?: AbortSignal): Promise<LoadResult<DemoExample>> {
  return loadRows(path, data, context, signal, (row, line) => demoExample(row, { file: path, line, data, tokenizer: tok, context }));
}

/**
 * The texts of a training file, for building a word/char/remapped-gpt2 vocabulary
 * (`buildTokenizerAsync(cfg, corpusFromJsonl(path, data))`): the prompt and response(s) of
 * every usable row, split as the loaders split them.
 */
export async function* corpusFromJsonl(path: string, data: DataConfig, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = readJsonl(path, { onBadLine: data.on_bad_line, signal });
  for await (const { line, value } of reader) {
    let texts: string[];
    try {
      texts = data.format === 'preference' ? pairTexts(pairText(value, data.fields)) : demoTexts(demoText(value, data));
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      reader.reject(line, e.message, e.key);
      continue;
    }
    yield* texts;
  }
}

const pairTexts = (t: PairText) => [t.prompt, t.chosen, t.rejected];
const demoTexts = (t: DemoText) => [t.prompt, t.response];
