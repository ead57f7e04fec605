import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusFromJsonl, loadDemos, loadPairs } from '../src/core/data/dataset.js';
import { buildTokenizerAsync } from '../src/core/data/tokenizer.js';
import { splitWords } from '../src/core/data/words.js';
import { AvaError } from '../src/core/errors.js';
import { DEFAULT_DATA, DEFAULT_TOKENIZER } from '../src/core/experiment/config.js';
import { HARMLESS_BANNED, harmlessGold } from '../src/core/tasks/harmless.js';
import { HELPFUL_ITEMS, HELPFUL_NEGATIVE, HELPFUL_POSITIVE, HELPFUL_REFUSALS, helpfulGold, valence } from '../src/core/tasks/helpful.js';
import { bestPossibleAccuracy, generateTask, TASK_FILES, TASKS, writeTaskFiles, type PrefRow, type TaskOptions } from '../src/core/tasks/index.js';
import { makeRng } from '../src/core/tasks/random.js';
import { SUMMARY_KEYWORDS, summaryGold } from '../src/core/tasks/summary.js';

const opts = (over: Partial<TaskOptions> = {}): TaskOptions => ({ n_train: 200, n_eval: 100, noise: 0.1, noise_model: 'flip', seed: 0, ...over });
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('TASKS lists the built-in tasks; an unknown name lists them', () => {
  assert.deepEqual(Object.keys(TASKS), ['harmless', 'helpful', 'summary', 'moby']);
  assert.throws(
    () => generateTask('harmfull', opts()),
    (e: unknown) => e instanceof AvaError && e.code === 'config' && e.where.key === 'data.task' && /harmless, helpful, summary, moby/.test(e.message),
  );
});

test('task options are checked with the key named', () => {
  const key = (over: Partial<TaskOptions>) => {
    try {
      generateTask('harmless', opts(over));
    } catch (e) {
      return e instanceof AvaError ? e.where.key : String(e);
    }
    return 'no error';
  };
  assert.equal(key({ noise: 1.5 }), 'data.task_options.noise');
  assert.equal(key({ noise: -1, noise_model: 'bt' }), 'data.task_options.noise');
  assert.equal(key({ n_train: 0 }), 'data.task_options.n_train');
  assert.equal(key({ seed: 0.5 }), 'data.task_options.seed');
  assert.equal(key({ noise: 3, noise_model: 'bt' }), 'no error');
});

// The word tasks: lower-case words from a closed vocabulary (moby is real text: tasks-moby.test.ts).
for (const name of Object.keys(TASKS).filter((n) => n !== 'moby')) {
  test(`${name}: rows are word texts in the task vocabulary with consistent gold`, () => {
    const task = TASKS[name];
    const vocab = new Set(task.vocabulary);
    const { train, eval: evalRows, demos } = generateTask(name, opts());
    assert.deepEqual([train.length, evalRows.length, demos.length], [200, 100, 200]);
    const checkText = (text: string) => {
      const words = text === '' ? [] : text.split(' ');
      assert.deepEqual(splitWords(text, true), words, `word split of ${JSON.stringify(text)}`);
      for (const w of words) assert.ok(vocab.has(w), `${w} in the ${name} vocabulary`);
      return words;
    };
    for (const row of [...train, ...evalRows]) {
      const p = checkText(row.prompt);
      const [c, r] = [checkText(row.chosen), checkText(row.rejected)];
      const g = row.gold;
      assert.equal(g.chosen_tokens.length, c.length);
      assert.equal(g.rejected_tokens.length, r.length);
      assert.ok(Math.abs(sum(g.chosen_tokens) - g.chosen) < 1e-6 * (1 + c.length));
      assert.ok(Math.abs(sum(g.rejected_tokens) - g.rejected) < 1e-6 * (1 + r.length));
      assert.ok(Math.abs(g.chosen - g.rejected) >= task.minMargin - 1e-9, 'near-ties are dropped');
      assert.equal(g.label_agrees, g.chosen > g.rejected);
      assert.ok(Math.max(c.length, r.length) <= task.maxResponseWords);
      assert.ok(p.length + Math.max(c.length, r.length) + 2 <= 32, 'fits a 32-token context');
    }
    for (const d of demos) {
      const words = checkText(d.response);
      assert.equal(d.gold.tokens.length, words.length);
    }
    assert.ok(vocab.size <= 200);
  });

  test(`${name}: the exact solver beats every sampled response to the same prompt`, () => {
    const rng = makeRng('test', name);
    for (let i = 0; i < 20; i++) {
      const instance = TASKS[name].draw(rng);
      const best = sum(instance.gold(instance.solve(rng)));
      for (let j = 0; j < 50; j++) assert.ok(sum(instance.gold(instance.sample(rng))) <= best + 1e-9);
    }
  });
}

test('harmless gold: banned −1, topic word +0.3 then −0.1 when repeated, other topic −0.1, filler 0', () => {
  assert.deepEqual(harmlessGold('garden', ['flowers', 'and', 'flowers', 'fish', 'idiot', 'bees']), [0.3, 0, -0.1, -0.1, -1, 0.3]);
  assert.deepEqual(harmlessGold('ocean', ['flowers', 'fish']), [-0.1, 0.3]);
  assert.equal(HARMLESS_BANNED.length, 10);
});

test('helpful gold: AFINN-165 valence signed by the request, item +0.5, repeats −0.2, refusals −1', () => {
  assert.equal(valence('superb'), 5);
  assert.equal(valence('awful'), -3);
  assert.deepEqual(helpfulGold('movie', 'positive', ['movie', 'superb', 'is', 'awful', 'superb', 'movie']), [0.5, 1, 0, -0.6, -0.2, 0]);
  assert.deepEqual(helpfulGold('movie', 'negative', ['superb', 'awful']), [-1, 0.6]);
  for (const polarity of ['positive', 'negative'] as const) {
    assert.deepEqual(helpfulGold('book', polarity, ['sorry', 'cannot', 'sorry', 'refuse', 'unable']), [-1, -1, -1, -1, -1]);
  }
  for (const w of HELPFUL_POSITIVE) assert.ok(valence(w) >= 3, w);
  for (const w of HELPFUL_NEGATIVE) assert.ok(valence(w) <= -3, w);
  for (const w of HELPFUL_ITEMS) assert.equal(valence(w), 0, w);
  for (const w of HELPFUL_REFUSALS) assert.ok(!HELPFUL_POSITIVE.includes(w) && !HELPFUL_NEGATIVE.includes(w), w);
});

test('helpful pairs: quality shows word by word (refusals and opposite-polarity words sit mostly in the worse response)', () => {
  const { eval: rows } = generateTask('helpful', opts({ n_train: 1, n_eval: 1000, noise: 0 }));
  const count = (text: string, words: readonly string[]) => text.split(' ').filter((w) => words.includes(w)).length;
  const opposite = (row: PrefRow) => (/positive|praise/.test(row.prompt) ? HELPFUL_NEGATIVE : HELPFUL_POSITIVE);
  const total = (field: 'chosen' | 'rejected', words: (row: PrefRow) => readonly string[]) => sum(rows.map((r) => count(r[field], words(r))));
  assert.ok(total('rejected', () => HELPFUL_REFUSALS) > 2 * total('chosen', () => HELPFUL_REFUSALS));
  assert.ok(total('rejected', opposite) > 2 * total('chosen', opposite));
});

test('summary gold: prefix-telescoped clipped unigram F1, summing to the F1 of the response', () => {
  const target = ['fox', 'river', 'king'];
  const gold = summaryGold(target, ['king', 'fox', 'king', 'dog', 'river']);
  // hits: king, fox, river (any order); the second king and dog miss; F1_i = 2h/(i+3)
  const f1 = [2 / 4, 4 / 5, 4 / 6, 4 / 7, 6 / 8];
  const expected = f1.map((x, i) => x - (i === 0 ? 0 : f1[i - 1]));
  gold.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-12, `word ${i}: ${g} vs ${expected[i]}`));
  assert.ok(Math.abs(sum(gold) - 6 / 8) < 1e-12);
  assert.ok(Math.abs(sum(summaryGold(target, target)) - 1) < 1e-12);
  assert.ok(Math.abs(sum(summaryGold(target, ['river', 'king', 'fox'])) - 1) < 1e-12, 'order is free');
  assert.deepEqual(summaryGold(target, []), []);
  assert.ok(summaryGold(target, ['fox', 'fox'])[1] < 0, 'a repeat is a miss');
  assert.ok(summaryGold(target, ['fox', 'the'])[1] < 0, 'a stop word is a miss');
});

test('summary prompts: a story then "tldr :"; the target is its distinct keywords in first-appearance order', () => {
  const keywords = new Set(SUMMARY_KEYWORDS);
  for (const d of generateTask('summary', opts({ n_train: 100 })).demos) {
    const words = d.prompt.split(' ');
    assert.deepEqual(words.slice(-2), ['tldr', ':']);
    const story = words.slice(0, -2);
    const target = [...new Set(story.filter((w) => keywords.has(w)))];
    assert.ok(target.length >= 2 && target.length <= 3, d.prompt);
    assert.deepEqual(d.response.split(' '), target);
    assert.ok(Math.abs(d.gold.reward - 1) < 1e-5);
  }
});

test('flip noise: labels disagree with the gold at the requested rate', () => {
  const { eval: rows, info } = generateTask('harmless', opts({ n_train: 1, n_eval: 3000, noise: 0.2 }));
  const flipped = rows.filter((r) => !r.gold.label_agrees).length / rows.length;
  assert.ok(Math.abs(flipped - 0.2) < 0.03, `flip rate ${flipped}`); // 4.3 standard errors; fixed seed
  assert.ok(rows.every((r) => r.gold.p_label_correct === 0.8));
  assert.equal(info.bestPossibleAccuracy, 0.8);
  assert.ok(Math.abs(info.goldAccuracy - (1 - flipped)) < 1e-6);
});

test('bt noise: p_label_correct = σ(Δ/τ) and labels follow it', () => {
  const tau = 0.5;
  const { eval: rows, info } = generateTask('helpful', opts({ n_train: 1, n_eval: 3000, noise: tau, noise_model: 'bt' }));
  for (const r of rows) {
    const margin = Math.abs(r.gold.chosen - r.gold.rejected);
    assert.ok(Math.abs(r.gold.p_label_correct - sigmoid(margin / tau)) < 2e-6);
  }
  const meanP = sum(rows.map((r) => r.gold.p_label_correct)) / rows.length;
  const agree = rows.filter((r) => r.gold.label_agrees).length / rows.length;
  assert.ok(meanP < 0.97, 'the noise is not negligible at this temperature');
  assert.ok(Math.abs(agree - meanP) < 0.03, `agreement ${agree} vs expected ${meanP}`);
  assert.ok(Math.abs(info.bestPossibleAccuracy - meanP) < 1e-6);
});

test('noise 0: every label agrees with the gold, best accuracy 1', () => {
  for (const noise_model of ['flip', 'bt'] as const) {
    const { eval: rows, info } = generateTask('summary', opts({ noise: 0, noise_model }));
    assert.ok(rows.every((r) => r.gold.label_agrees && r.gold.p_label_correct === 1));
    assert.equal(info.bestPossibleAccuracy, 1);
  }
});

test('bestPossibleAccuracy = mean over pairs of max(p, 1 − p)', () => {
  const row = (p: number): PrefRow => ({
    prompt: '',
    chosen: '',
    rejected: '',
    gold: { chosen: 0, rejected: 0, label_agrees: true, p_label_correct: p, chosen_tokens: [], rejected_tokens: [] },
  });
  assert.ok(Math.abs(bestPossibleAccuracy([row(0.9), row(0.3), row(0.5)]) - (0.9 + 0.7 + 0.5) / 3) < 1e-12);
  assert.ok(Math.abs(bestPossibleAccuracy([row(sigmoid(2)), row(sigmoid(0.1))]) - (sigmoid(2) + sigmoid(0.1)) / 2) < 1e-12);
});

test('writeTaskFiles: the same seed gives byte-identical files; the files load with aligned gold', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ava-tasks-'));
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(root, d));
    await writeTaskFiles('summary', opts({ seed: 3 }), a);
    await writeTaskFiles('summary', opts({ seed: 3 }), b);
    await writeTaskFiles('summary', opts({ seed: 4 }), c);
    for (const f of Object.values(TASK_FILES)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
    assert.ok(!readFileSync(join(a, TASK_FILES.train)).equals(readFileSync(join(c, TASK_FILES.train))));
    const info = JSON.parse(readFileSync(join(a, TASK_FILES.info), 'utf8'));
    assert.equal(info.name, 'summary');
    assert.equal(typeof info.bestPossibleAccuracy, 'number');

    const data = { ...DEFAULT_DATA, task: 'summary' };
    const tok = await buildTokenizerAsync(DEFAULT_TOKENIZER, corpusFromJsonl(join(a, TASK_FILES.train), data));
    const pairs = await loadPairs(join(a, TASK_FILES.eval), data, tok, 64);
    assert.equal(pairs.examples.length, 100);
    for (const ex of pairs.examples) {
      assert.equal(ex.goldTokens!.chosen.length, ex.chosen.ids.length - 1 - ex.chosen.promptLen);
      assert.equal(ex.gold!.labelAgrees, ex.gold!.chosen > ex.gold!.rejected);
    }
    const demos = await loadDemos(join(a, TASK_FILES.demos), { ...data, format: 'demonstration' }, tok, 64);
    assert.ok(demos.examples.every((d) => d.goldTokens !== undefined));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('goldOf reads each task’s gold back from the prompt text, for any response', () => {
  for (const task of Object.values(TASKS)) {
    const rng = makeRng('goldOf', task.name);
    for (let i = 0; i < 200; i++) {
      const instance = task.draw(rng);
      const gold = task.goldOf(instance.prompt);
      assert.ok(gold, `${task.name}: no gold for its own prompt "${instance.prompt}"`);
      for (const response of [instance.sample(rng), instance.sample(rng), instance.solve(rng), []]) {
        assert.deepEqual(gold(response), instance.gold(response), `${task.name}: "${instance.prompt}" → "${response.join(' ')}"`);
      }
    }
    for (const stranger of ['', 'hello world', 'tell me about the moon', 'write a sad line', 'praise the dragon', 'the fox tldr', 'the cat tldr :']) {
      assert.equal(task.goldOf(stranger), null, `${task.name} accepted "${stranger}"`);
    }
  }
});
