/**
 * The word-split rule shared by the `word` tokenizer and the built-in tasks, so that a
 * task's per-word gold rewards line up one-to-one with the word tokenizer's response ids.
 *
 * Rule: (optionally lower-case, then) a token is either
 *   - a run of letters, combining marks and digits, with inner apostrophes kept (`don't`), or
 *   - any other single non-whitespace character (punctuation, symbols: `:`, `?`, `🤖`).
 * Whitespace only separates tokens and is not kept. Built-in task texts are lower-case words
 * separated by single spaces, so for them `splitWords(t)` equals `t.split(' ')`.
 */
const WORD_RE = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*|[^\s]/gu;

export function splitWords(text: string, lowercase: boolean): string[] {
  const source = lowercase ? text.toLowerCase() : text;
  return source.match(WORD_RE) ?? [];
}

/** The text a word sequence stands for: the words joined by single spaces. */
export function joinWords(words: readonly string[]): string {
  return words.join(' ');
}
