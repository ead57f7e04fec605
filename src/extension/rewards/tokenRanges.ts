/**
 * Where a sequence's tokens sit on a JSONL line, so decorations can colour them in place.
 *
 * A line is one JSON object; its top-level string values (prompt, chosen, rejected, response)
 * are scanned with the column of every decoded character kept, escapes included (`\n`, `\"`,
 * `\u00e9` take several columns for one character). Tokens are then found left to right in the
 * decoded value, case-insensitively (the word tokenizer lower-cases); a token that cannot be
 * found (an end-of-sequence marker, a normalised character) is skipped, not guessed.
 * Columns are UTF-16 offsets, as VS Code positions are. Pure.
 */
import type { SequenceRewards } from '../../protocol/events.js';

export interface JsonStringField {
  key: string;
  value: string;
  /** Column on the line of each UTF-16 unit of `value`, plus one for the closing quote. */
  columns: number[];
}

export interface TokenSpan {
  /** Index into SequenceRewards.tokens. */
  index: number;
  start: number;
  end: number;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

interface ScannedString {
  value: string;
  columns: number[];
  /** Column after the closing quote. */
  end: number;
}

function scanString(line: string, start: number): ScannedString | null {
  if (line[start] !== '"') return null;
  let value = '';
  const columns: number[] = [];
  let i = start + 1;
  while (i < line.length && line[i] !== '"') {
    if (line[i] === '\\') {
      const e = line[i + 1];
      if (e === 'u') {
        const code = parseInt(line.slice(i + 2, i + 6), 16);
        if (!Number.isFinite(code)) return null;
        value += String.fromCharCode(code);
        columns.push(i);
        i += 6;
      } else if (e !== undefined && e in ESCAPES) {
        value += ESCAPES[e];
        columns.push(i);
        i += 2;
      } else {
        return null;
      }
    } else {
      value += line[i];
      columns.push(i);
      i += 1;
    }
  }
  if (i >= line.length) return null;
  columns.push(i);
  return { value, columns, end: i + 1 };
}

function skipSpace(line: string, i: number): number {
  while (i < line.length && /\s/.test(line[i] as string)) i++;
  return i;
}

/** Skips one JSON value that is not a string (number, literal, nested object or array). */
function skipValue(line: string, i: number): number {
  let depth = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '"') {
      const s = scanString(line, i);
      if (!s) return line.length;
      i = s.end;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === ',' && depth === 0) return i;
    i++;
  }
  return i;
}

/** The top-level string fields of a JSON object line; [] when the line is not one. */
export function topLevelStringFields(line: string): JsonStringField[] {
  const fields: JsonStringField[] = [];
  let i = skipSpace(line, 0);
  if (line[i] !== '{') return [];
  i = skipSpace(line, i + 1);
  while (i < line.length && line[i] !== '}') {
    const key = scanString(line, i);
    if (!key) return fields;
    i = skipSpace(line, key.end);
    if (line[i] !== ':') return fields;
    i = skipSpace(line, i + 1);
    if (line[i] === '"') {
      const value = scanString(line, i);
      if (!value) return fields;
      fields.push({ key: key.value, value: value.value, columns: value.columns });
      i = value.end;
    } else {
      i = skipValue(line, i);
    }
    i = skipSpace(line, i);
    if (line[i] === ',') i = skipSpace(line, i + 1);
  }
  return fields;
}

/**
 * Finds `tokens` in order inside a field's value, from `from` on; returns their columns on
 * the line.
 */
export function locateTokens(field: JsonStringField, tokens: readonly string[], from = 0): TokenSpan[] {
  const haystack = field.value.toLowerCase();
  const spans: TokenSpan[] = [];
  let cursor = from;
  tokens.forEach((token, index) => {
    const needle = token.trim().toLowerCase();
    if (!needle) return;
    const at = haystack.indexOf(needle, cursor);
    if (at < 0) return;
    const end = at + needle.length;
    spans.push({ index, start: field.columns[at] as number, end: field.columns[end] as number });
    cursor = end;
  });
  return spans;
}

/**
 * Where a sequence's response starts inside its field: the last occurrence of its decoded
 * text (a field may hold the prompt and the response, as in HH-style dialogues), else 0.
 */
export function responseStart(field: JsonStringField, seq: SequenceRewards): number {
  const text = seq.text.trim().toLowerCase();
  const at = text ? field.value.toLowerCase().lastIndexOf(text) : -1;
  return at < 0 ? 0 : at;
}

/** Spans of a sequence's tokens on a line, or [] when its field cannot be found. */
export function sequenceSpans(fields: JsonStringField[], name: string, seq: SequenceRewards): TokenSpan[] {
  const field = fieldForSequence(fields, name, seq);
  if (!field) return [];
  return locateTokens(field, seq.tokens.map((t) => t.token), responseStart(field, seq));
}

/**
 * The field a sequence came from: the one named like it (`chosen`, `rejected`, `response`),
 * else one whose value contains the sequence's text, else the one where most tokens are found.
 */
export function fieldForSequence(fields: JsonStringField[], name: string, seq: SequenceRewards): JsonStringField | null {
  const named = fields.find((f) => f.key === name);
  if (named) return named;
  const text = seq.text.trim().toLowerCase();
  const containing = text ? fields.find((f) => f.value.toLowerCase().includes(text)) : undefined;
  if (containing) return containing;
  let best: JsonStringField | null = null;
  let bestCount = 0;
  for (const f of fields) {
    const count = locateTokens(f, seq.tokens.map((t) => t.token)).length;
    if (count > bestCount) [best, bestCount] = [f, count];
  }
  return best;
}
