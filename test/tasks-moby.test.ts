/**
 * The real-text task `moby` (src/core/tasks/moby.ts): real sentences, per-word AFINN gold whose
 * sign the prompt sets, labels by the usual noise models, and the word → BPE-token placement of
 * the gold (data/dataset.ts wordGoldOnTokens) that keeps per-token attributions scoreable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTask } from '../src/core/tasks/index.js';
import { MOBY_SENTENCES, lexiconForm, mobyGold } from '../src/core/tasks/moby.js';
import { buildTokenizer } from '../src/core/data/tokenizer.js';
import { wordGoldOnTokens } from '../src/core/data/dataset.js';

const opts = { n_train: 300, n_eval: 200, noise: 0.1, noise_model: 'flip' as const, seed: 4 };

test('real sentences: open vocabulary, capitals and punctuation, 6-16 words', () => {
  assert.equal(MOBY_SENTENCES.length, 1907);
  assert.ok(MOBY_SENTENCES.every((s) => s.split(' ').length >= 6 && s.split(' ').length <= 16));
  assert.ok(MOBY_SENTENCES.some((s) => /[,;]/.test(s)) && MOBY_SENTENCES.some((s) => /^[A-Z]/.test(s)));
  assert.ok(new Set(MOBY_SENTENCES.flatMap((s) => s.split(' ').map(lexiconForm))).size > 3000);
});

test('gold per word: ±AFINN/5 by the prompt, punctuation ignored, 0 outside the lexicon', () => {
  // AFINN-165: hopeless −2, good +3, whale not scored.
  assert.deepEqual(mobyGold(1, ['Hopeless,', 'good', 'whale.']), [-0.4, 0.6, 0]);
  assert.deepEqual(mobyGold(-1, ['Hopeless,', 'good', 'whale.']), [0.4, -0.6, 0]);
  assert.equal(lexiconForm('"Don\'t!'), "don't");
});

test('generation: deterministic, gold sums per row, labels follow the gold with the flip noise', () => {
  const a = generateTask('moby', opts);
  assert.deepEqual(generateTask('moby', opts), a);
  for (const r of [...a.train, ...a.eval]) {
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(sum(r.gold.chosen_tokens) - r.gold.chosen) < 1e-5 && Math.abs(sum(r.gold.rejected_tokens) - r.gold.rejected) < 1e-5);
    assert.equal(r.gold.chosen_tokens.length, r.chosen.split(' ').length);
    assert.ok(MOBY_SENTENCES.includes(r.chosen) && MOBY_SENTENCES.includes(r.rejected));
    assert.ok(Math.abs(r.gold.chosen - r.gold.rejected) >= 0.2 - 1e-9, 'near-ties are redrawn');
    assert.match(r.prompt, /^write a (hopeful|grim) line$/);
  }
  assert.ok(Math.abs(a.info.bestPossibleAccuracy - 0.9) < 1e-9);
  assert.ok(a.info.goldAccuracy > 0.85 && a.info.goldAccuracy < 0.95, String(a.info.goldAccuracy));
});

test('GPT-2 BPE: each word’s gold on its last token with a letter, the sum kept, exactly the response tokens', () => {
  const tok = buildTokenizer({ kind: 'gpt2', remap_to_data: false, lowercase: false }, []);
  const response = 'Oh, the outlandishness of a hopeless whale.';
  const words = response.split(' ');
  const gold = words.map((_, i) => i + 1);
  const ids = tok.encode(response);
  const placed = wordGoldOnTokens(gold, response, tok, ids.length)!;
  assert.equal(placed.length, ids.length);
  assert.equal(placed.reduce((a, b) => a + b, 0), gold.reduce((a, b) => a + b, 0));
  const shown = ids.map((id, k) => [tok.decode([id]), placed[k]]);
  assert.deepEqual(shown.find(([t]) => t === ','), [',', 0], 'the comma after "Oh" gets nothing');
  assert.deepEqual(shown.find(([t]) => t === 'Oh'), ['Oh', 1]);
  assert.deepEqual(shown.at(-1), ['.', 0]);
  assert.equal(shown.at(-2)![1], 7, '"whale." puts its gold on " whale"');
  assert.ok(ids.length > words.length, 'BPE splits some words');
  assert.equal(wordGoldOnTokens(gold, response, tok, ids.length + 1), undefined);
  assert.equal(wordGoldOnTokens([1, 2], response, tok, ids.length), undefined);
});
