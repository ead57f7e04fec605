// Pure parts of the JSONL hover and highlights: JSON string fields with their columns,
// tokens found in place, highlight levels, the hover markdown, and the LRU cache.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LineRewards, SequenceRewards } from '../src/protocol/events.js';
import { fieldForSequence, locateTokens, sequenceSpans, topLevelStringFields } from '../src/extension/rewards/tokenRanges.js';
import { lineHighlights, strengthLevel } from '../src/extension/rewards/lineDecorations.js';
import { commandLink, escapeText, lineDomain, renderLineRewards, valueDigits } from '../src/extension/rewards/hoverMarkdown.js';
import { LruCache } from '../src/core/util/lru.js';

function seq(tokens: [string, number][], text = tokens.map(([t]) => t).join(' ')): SequenceRewards {
  return {
    text,
    prompt_tokens: [],
    tokens: tokens.map(([token, mean], id) => ({ token, id, mean, std: 0.1, weight: 0.5, raw_mean: mean, raw_std: 0.1 })),
    reward: tokens.reduce((s, [, m]) => s + m, 0),
    reward_std: 0.2,
  };
}

test('topLevelStringFields decodes escapes and keeps the column of every character', () => {
  const line = '{"prompt": "say \\"hi\\"", "n": [1, {"x": "}"}], "chosen": "caf\\u00e9 ok\\n"}';
  const fields = topLevelStringFields(line);
  assert.deepEqual(fields.map((f) => [f.key, f.value]), [
    ['prompt', 'say "hi"'],
    ['chosen', 'café ok\n'],
  ]);
  const chosen = fields[1]!;
  const at = (i: number) => chosen.columns[i]!;
  assert.equal(line.slice(at(0), at(3)), 'caf');
  assert.equal(line.slice(at(3), at(4)), '\\u00e9', 'one character spans its whole escape');
  assert.equal(line[at(chosen.value.length)], '"', 'the last column is the closing quote');
  assert.deepEqual(topLevelStringFields('not json'), []);
  assert.deepEqual(topLevelStringFields('{"a": "unterminated'), []);
});

test('locateTokens finds tokens left to right, case-insensitively, and skips what is not there', () => {
  const line = '{"chosen": "The book was Great, the end"}';
  const [field] = topLevelStringFields(line);
  const spans = locateTokens(field!, ['the', 'book', '<eos>', 'great', ' the']);
  assert.deepEqual(spans.map((s) => [s.index, line.slice(s.start, s.end)]), [
    [0, 'The'],
    [1, 'book'],
    [3, 'Great'],
    [4, 'the'],
  ]);
});

test('sequenceSpans picks the field by name, else by text, and starts at the response in a dialogue field', () => {
  const line = '{"a": "Human: hi there Assistant: hi friend"}';
  const fields = topLevelStringFields(line);
  const response = seq([['hi', 1], ['friend', -1]], 'hi friend');
  assert.equal(fieldForSequence(fields, 'chosen', response)?.key, 'a');
  const spans = sequenceSpans(fields, 'chosen', response);
  assert.equal(line.slice(spans[0]!.start, spans[1]!.end), 'hi friend', 'the response, not the prompt\'s "hi"');
});

test('lineHighlights: sign and strength per token on one symmetric domain; near-zero tokens are left plain', () => {
  assert.equal(strengthLevel(0.05, 1, 5), 0);
  assert.equal(strengthLevel(-1, 1, 5), 5);
  assert.equal(strengthLevel(0.5, 1, 5), 3);
  assert.equal(strengthLevel(1, 0, 5), 0);
  const rewards: LineRewards = { line: 1, kind: 'preference', chosen: seq([['good', 2], ['book', 0.01]]), rejected: seq([['bad', -1]]) };
  const line = '{"prompt": "p", "chosen": "good book", "rejected": "bad"}';
  const h = lineHighlights(line, rewards, 5);
  assert.deepEqual(h.map((x) => [line.slice(x.start, x.end), x.sign, x.level]), [
    ['good', 'positive', 5],
    ['bad', 'negative', 3],
  ]);
  assert.equal(lineDomain(rewards), 2);
});

test('renderLineRewards: coloured spans in the one style VS Code keeps, values, sequence rewards, links', () => {
  const rewards: LineRewards = { line: 3, kind: 'preference', chosen: seq([['good', 1], ['<b>', -0.5]]), rejected: seq([['bad', -1]]), correct: true };
  const md = renderLineRewards(rewards, { scheme: 'blue-orange', modelLabel: 'demo · base/seed-0', openPanelLink: commandLink('avaLab.showTokenRewards', [{ line: 3 }]) });
  for (const style of md.match(/style="[^"]*"/g) ?? []) {
    assert.match(style, /^style="(color:#[0-9a-f]{6};)?(background-color:#[0-9a-f]{8};)?"$/);
  }
  assert.match(md, /\*\*Chosen\*\* R = \+0\.500 ± 0\.200/);
  assert.match(md, /\*\*Rejected\*\* R = −1\.000/);
  assert.match(md, />\+1\.00<\/span>±0\.10/);
  assert.match(md, /&lt;b&gt;/, 'token text is escaped');
  assert.match(md, /✓ the model ranks chosen above rejected/);
  assert.match(md, /\[Open in Token Rewards\]\(command:avaLab\.showTokenRewards\?%5B%7B%22line%22%3A3%7D%5D\)/);
  assert.equal(escapeText('a*b_[c]'), 'a\\*b\\_\\[c\\]');
  assert.deepEqual([valueDigits(2), valueDigits(0.5), valueDigits(0.002), valueDigits(0)], [2, 2, 4, 2]);
});

test('LruCache evicts the least recently used entry', () => {
  const c = new LruCache<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1);
  c.set('c', 3);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a'), 1);
  assert.equal(c.size, 2);
  assert.throws(() => new LruCache(0), RangeError);
});
