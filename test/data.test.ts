import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusFromJsonl, encodePair, encodeSeq, fieldValue, loadDemos, loadPairs, splitHHPrompt } from '../src/core/data/dataset.js';
import { buildTokenizer, buildTokenizerAsync } from '../src/core/data/tokenizer.js';
import { AvaError } from '../src/core/errors.js';
import { DEFAULT_DATA, type DataConfig } from '../src/core/experiment/config.js';

const fx = (name: string) => join(import.meta.dirname, 'fixtures/data', name);
const WORD = { kind: 'word', remap_to_data: true, lowercase: true } as const;
/** A word tokenizer that knows every letter-word used below. */
const tok = buildTokenizer(WORD, ['a b c d e f g h p q r s x y z', 'tell me about cats dogs : purr softly hate idiot bark say hi there bye']);
const ids = (text: string) => tok.encode(text);
const data = (over: Partial<DataConfig> = {}): DataConfig => ({ ...DEFAULT_DATA, ...over });

test('encodeSeq: [BOS] + prompt + response + [EOS]; promptLen marks where the response starts', () => {
  const seq = encodeSeq('a b c', 'x y', tok, 64, 'fail')!;
  assert.deepEqual(seq.ids, [tok.bos, ...ids('a b c'), ...ids('x y'), tok.eos]);
  assert.equal(seq.promptLen, 4);
  const resp = seq.ids.map((_, j) => (j >= seq.promptLen ? 1 : 0));
  assert.deepEqual(resp, [0, 0, 0, 0, 1, 1, 1]); // x, y and EOS are actions of the response
  assert.equal(encodeSeq('', 'x', tok, 64, 'fail')!.promptLen, 1);
});

test('truncation prompt_left drops prompt tokens from the left, keeping the response whole', () => {
  const seq = encodeSeq('a b c d e', 'x y', tok, 6, 'prompt_left')!;
  assert.deepEqual(seq.ids, [tok.bos, ...ids('d e'), ...ids('x y'), tok.eos]);
  assert.equal(seq.promptLen, 3);
  assert.equal(seq.ids.length, 6);
  assert.equal(encodeSeq('a', 'p q r s x', tok, 6, 'prompt_left'), null, 'response alone does not fit ⇒ skipped');
  assert.equal(encodeSeq('a', 'p q r x', tok, 6, 'prompt_left')!.promptLen, 1, 'the whole prompt may go');
});

test('truncation prompt_left on a pair keeps the same prompt tokens on both sides', () => {
  const pair = encodePair('a b c d e', 'x', 'x y z', tok, 7, 'prompt_left')!;
  assert.deepEqual(pair.chosen.ids, [tok.bos, ...ids('d e x'), tok.eos]);
  assert.deepEqual(pair.rejected.ids, [tok.bos, ...ids('d e x y z'), tok.eos]);
  assert.equal(pair.chosen.promptLen, pair.rejected.promptLen);
});

test('truncation skip and fail', () => {
  assert.equal(encodeSeq('a b c d e', 'x y', tok, 6, 'skip'), null);
  assert.notEqual(encodeSeq('a b', 'x y', tok, 6, 'skip'), null);
  assert.throws(
    () => encodeSeq('a b c d e', 'x y', tok, 6, 'fail', { file: 'f.jsonl', line: 7 }),
    (e: unknown) => e instanceof AvaError && e.code === 'data' && e.format() === 'f.jsonl:7: the sequence has 9 tokens (BOS + 5 prompt + 2 response + EOS), more than model.context = 6 (data.truncation is "fail")',
  );
});

test('fieldValue: exact key first, then dotted paths', () => {
  const row = { 'a.b': 1, a: { b: 2, c: { d: 'deep' } } };
  assert.equal(fieldValue(row, 'a.b'), 1);
  assert.equal(fieldValue(row, 'a.c.d'), 'deep');
  assert.equal(fieldValue(row, 'a.x.d'), undefined);
});

test('splitHHPrompt: longest common prefix cut after the last "\\n\\nAssistant:"', () => {
  const h = '\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant:';
  assert.deepEqual(splitHHPrompt(h + ' ha ha', h + ' no'), { prompt: h, chosen: ' ha ha', rejected: ' no' });
  assert.deepEqual(splitHHPrompt(h + ' I will', h + ' I won’t'), { prompt: h, chosen: ' I will', rejected: ' I won’t' });
  assert.equal(splitHHPrompt('x y', 'x z'), null);
  assert.equal(splitHHPrompt('\n\nAssist', '\n\nAssist'), null);
});

test('loadPairs: dotted field names; missing and non-string fields are bad lines naming the field', async () => {
  const fields = { prompt: 'info.post', chosen: 'summaries.good', rejected: 'summaries.bad', response: 'response' };
  const gpt = buildTokenizer({ kind: 'gpt2', remap_to_data: false, lowercase: false }, []);
  await assert.rejects(loadPairs(fx('nested.jsonl'), data({ fields }), gpt, 64), (e: unknown) => {
    assert.ok(e instanceof AvaError);
    assert.equal(e.format(), `${fx('nested.jsonl')}:2: summaries.bad: field "summaries.bad" is missing`);
    return true;
  });
  const { examples, skipped, badLines } = await loadPairs(fx('nested.jsonl'), data({ fields, on_bad_line: 'skip' }), gpt, 64);
  assert.deepEqual(examples.map((e) => e.line), [1, 4]);
  assert.deepEqual(skipped, { badLines: 2, tooLong: 0 });
  assert.deepEqual(badLines.map((b) => [b.line, b.key, b.message]), [
    [2, 'summaries.bad', 'field "summaries.bad" is missing'],
    [3, 'info.post', 'field "info.post" must be a string, found number'],
  ]);
  assert.equal(gpt.decode(examples[0].chosen.ids.slice(1, examples[0].chosen.promptLen)), 'my cat is sick');
  assert.equal(gpt.decode(examples[0].chosen.ids.slice(examples[0].chosen.promptLen)), 'cat sick');
});

test('loadPairs: HH style (fields.prompt = "") splits dialogues at the shared "\\n\\nAssistant:"', async () => {
  const gpt = buildTokenizer({ kind: 'gpt2', remap_to_data: false, lowercase: false }, []);
  const hh = data({ fields: { ...DEFAULT_DATA.fields, prompt: '' }, on_bad_line: 'skip' });
  const { examples, badLines } = await loadPairs(fx('hh.jsonl'), hh, gpt, 256);
  assert.equal(examples.length, 2);
  const [first] = examples;
  const prompt = gpt.decode(first.chosen.ids.slice(0, first.chosen.promptLen));
  assert.ok(prompt.endsWith('tell me a joke\n\nAssistant:'));
  assert.equal(gpt.decode(first.chosen.ids.slice(first.chosen.promptLen)), ' why did the chicken cross the road?');
  assert.equal(gpt.decode(first.rejected.ids.slice(first.rejected.promptLen)), ' no.');
  assert.equal(gpt.decode(examples[1].rejected.ids.slice(examples[1].rejected.promptLen)), ' 4, I think');
  assert.deepEqual(badLines.map((b) => [b.line, b.key]), [[3, 'chosen']]);
});

test('loadPairs: built-in task gold is kept, per-token gold aligned with the response words', async () => {
  const { examples } = await loadPairs(fx('gold-pairs.jsonl'), data(), tok, 64);
  assert.deepEqual(examples[0].gold, { chosen: 0.6, rejected: -0.3, labelAgrees: true, pLabelCorrect: 0.9 });
  assert.deepEqual(examples[0].goldTokens, { chosen: [0.2, 0.2, 0.2], rejected: [0.2, 0, -0.5] });
  assert.equal(examples[1].gold!.labelAgrees, false);
  const gpt = buildTokenizer({ kind: 'gpt2', remap_to_data: false, lowercase: false }, []);
  const viaGpt = await loadPairs(fx('gold-pairs.jsonl'), data(), gpt, 64);
  assert.ok(viaGpt.examples[0].gold, 'sequence gold is kept with any tokenizer');
  // A word BPE splits in two keeps its gold on its last piece (wordGoldOnTokens), so the sum is kept.
  assert.deepEqual(viaGpt.examples[0].goldTokens, { chosen: [0.2, 0, 0.2, 0.2], rejected: [0.2, 0, -0.5] }, 'per-token gold placed on the BPE tokens');
});

test('loadPairs: rows longer than the context are skipped and counted; none left is an error', async () => {
  const { examples, skipped } = await loadPairs(fx('gold-pairs.jsonl'), data({ truncation: 'skip' }), tok, 9);
  assert.deepEqual(examples.map((e) => e.line), [2]);
  assert.deepEqual(skipped, { badLines: 0, tooLong: 1 });
  await assert.rejects(loadPairs(fx('gold-pairs.jsonl'), data({ truncation: 'skip' }), tok, 4), /no usable rows \(0 bad lines skipped, 2 longer than model.context = 4\)/);
  await assert.rejects(loadPairs(fx('gold-pairs.jsonl'), data({ truncation: 'fail' }), tok, 9), (e: unknown) => e instanceof AvaError && e.where.line === 1);
});

test('loadDemos: demonstration rows, and the chosen halves of a preference file', async () => {
  const demos = await loadDemos(fx('demos.jsonl'), data({ format: 'demonstration' }), tok, 64);
  assert.deepEqual(demos.examples.map((d) => tok.decode(d.seq.ids.slice(d.seq.promptLen))), ['hi there', 'bye']);
  assert.deepEqual(demos.examples[0].goldTokens, [1, 1]);
  assert.equal(demos.examples[1].goldTokens, undefined);
  const noPrompt = await loadDemos(fx('demos.jsonl'), data({ format: 'demonstration', fields: { ...DEFAULT_DATA.fields, prompt: '' } }), tok, 64);
  assert.ok(noPrompt.examples.every((d) => d.seq.promptLen === 1));
  const chosen = await loadDemos(fx('gold-pairs.jsonl'), data({ format: 'preference' }), tok, 64);
  assert.deepEqual(chosen.examples.map((d) => tok.decode(d.seq.ids.slice(d.seq.promptLen))), ['cats purr softly', 'dogs bark']);
  assert.deepEqual(chosen.examples[0].goldTokens, [0.2, 0.2, 0.2]);
});

test('corpusFromJsonl feeds the tokenizer builder with the texts the loaders use', async () => {
  const texts: string[] = [];
  for await (const t of corpusFromJsonl(fx('hh.jsonl'), data({ fields: { ...DEFAULT_DATA.fields, prompt: '' }, on_bad_line: 'skip' }))) texts.push(t);
  assert.equal(texts.length, 6);
  assert.equal(texts[2], ' no.');
  const built = await buildTokenizerAsync(WORD, corpusFromJsonl(fx('demos.jsonl'), data({ format: 'demonstration' })));
  assert.deepEqual(Array.from({ length: built.vocabSize - 4 }, (_, i) => built.tokenText(i + 4)), ['bye', 'hi', 'say', 'there']);
});
