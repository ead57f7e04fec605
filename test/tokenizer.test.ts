import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTokenizer, buildTokenizerAsync, tokenizerFromJSON, type Tokenizer } from '../src/core/data/tokenizer.js';
import { splitWords } from '../src/core/data/words.js';
import { AvaError } from '../src/core/errors.js';
import type { TokenizerConfig } from '../src/core/experiment/config.js';

const WORD: TokenizerConfig = { kind: 'word', remap_to_data: true, lowercase: true };
const CHAR: TokenizerConfig = { kind: 'char', remap_to_data: true, lowercase: false };
const GPT2: TokenizerConfig = { kind: 'gpt2', remap_to_data: false, lowercase: false };
const GPT2_REMAP: TokenizerConfig = { kind: 'gpt2', remap_to_data: true, lowercase: false };

const corpus = ['The cat sat on the mat.', "Don't panic: 42 cafés 🤖!", 'Hello world'];

function roundTripJSON(tok: Tokenizer): Tokenizer {
  return tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
}

test('splitWords: words with inner apostrophes, one token per other character', () => {
  assert.deepEqual(splitWords("Don't panic: 42 cafés 🤖!", true), ["don't", 'panic', ':', '42', 'cafés', '🤖', '!']);
  assert.deepEqual(splitWords('  a\tb\r\nc  ', false), ['a', 'b', 'c']);
  assert.deepEqual(splitWords('', true), []);
});

test('word tokenizer: sorted vocabulary after 4 specials, unknown words map to unk', () => {
  const tok = buildTokenizer(WORD, corpus);
  assert.equal(tok.kind, 'word');
  assert.deepEqual([tok.pad, tok.bos, tok.eos, tok.unk], [0, 1, 2, 3]);
  assert.deepEqual([0, 1, 2, 3].map((i) => tok.tokenText(i)), ['<pad>', '<bos>', '<eos>', '<unk>']);
  const vocab = Array.from({ length: tok.vocabSize - 4 }, (_, i) => tok.tokenText(i + 4));
  assert.deepEqual(vocab, [...vocab].sort());
  assert.equal(new Set(vocab).size, vocab.length);
  assert.ok(vocab.includes('the') && !vocab.includes('The'));
  assert.deepEqual(tok.encode('the zebra'), [vocab.indexOf('the') + 4, tok.unk]);
});

test('word tokenizer: decode(encode(t)) is the words of t joined by spaces', () => {
  const tok = buildTokenizer(WORD, corpus);
  for (const t of corpus) assert.equal(tok.decode(tok.encode(t)), splitWords(t, true).join(' '));
  assert.equal(tok.decode([tok.bos, ...tok.encode('hello world'), tok.eos, tok.pad]), 'hello world');
});

test('char tokenizer: exact round trip over corpus characters, code points not UTF-16 units', () => {
  const tok = buildTokenizer(CHAR, corpus);
  for (const t of corpus) assert.equal(tok.decode(tok.encode(t)), t);
  assert.equal(tok.encode('🤖').length, 1);
  assert.deepEqual(tok.encode('Z'), [tok.unk]);
});

test('gpt2 tokenizer: r50k ids, exact round trip, <|endoftext|> in text stays text', () => {
  const tok = buildTokenizer(GPT2, []);
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.eos, 50256);
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.equal(tok.tokenText(995), ' world');
  const tricky = 'café 🤖 <|endoftext|>\n\tend';
  assert.equal(tok.decode(tok.encode(tricky)), tricky);
  assert.ok(!tok.encode(tricky).includes(50256));
  assert.equal(tok.decode([tok.bos, 15496, tok.eos]), 'Hello');
});

test('gpt2 tokenizer: decoding a partial character does not leak into the next decode', () => {
  const tok = buildTokenizer(GPT2, []);
  const robot = tok.encode('🤖'); // several byte-level tokens
  assert.ok(robot.length > 1);
  assert.equal(tok.decode(robot.slice(0, -1)), '\uFFFD'); // an incomplete character
  assert.equal(tok.decode(robot.slice(-1)), '\uFFFD'); // not the robot completed from the previous call
  assert.equal(tok.decode(robot), '🤖');
  assert.match(tok.tokenText(robot[robot.length - 1]), /^(\\x[0-9A-F]{2})+$/);
});

test('gpt2 remap_to_data: dense ids of the corpus tokens, unk elsewhere, same text', () => {
  const tok = buildTokenizer(GPT2_REMAP, corpus);
  const full = buildTokenizer(GPT2, []);
  const used = new Set(corpus.flatMap((t) => full.encode(t)));
  assert.equal(tok.vocabSize, 4 + used.size);
  for (const t of corpus) assert.equal(tok.decode(tok.encode(t)), t);
  assert.equal(tok.tokenText(tok.encode(' world')[0]), ' world');
  assert.ok(tok.encode('Zyzzyva').includes(tok.unk));
  assert.equal(tok.sourceIds![tok.encode(' world')[0]], 995);
});

test('toJSON / tokenizerFromJSON reproduce every kind exactly', async () => {
  const async = async function* () {
    yield* corpus;
  };
  const toks = [buildTokenizer(WORD, corpus), buildTokenizer(CHAR, corpus), buildTokenizer(GPT2_REMAP, corpus), await buildTokenizerAsync(GPT2, async())];
  for (const tok of toks) {
    const back = roundTripJSON(tok);
    assert.equal(back.kind, tok.kind);
    assert.equal(back.vocabSize, tok.vocabSize);
    for (const t of corpus) assert.deepEqual(back.encode(t), tok.encode(t));
  }
  assert.deepEqual((await buildTokenizerAsync(WORD, async())).toJSON(), toks[0].toJSON());
});

test('tokenizerFromJSON rejects a corrupt file with a checkpoint error', () => {
  assert.throws(() => tokenizerFromJSON({ version: 1, kind: 'gpt2', remap: [5, 3] }), (e: unknown) => e instanceof AvaError && e.code === 'checkpoint');
  assert.throws(() => tokenizerFromJSON({ version: 2 } as never), AvaError);
  assert.throws(() => tokenizerFromJSON({ version: 1, kind: 'word', lowercase: true, vocab: ['a', 'a'] }), /duplicates/);
});
