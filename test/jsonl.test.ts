import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlIndex, readJsonl, type JsonlOptions, type JsonlRow } from '../src/core/data/jsonl.js';
import { AvaError } from '../src/core/errors.js';

const FIX = join(import.meta.dirname, 'fixtures/data');
const fx = (name: string) => join(FIX, name);
const FAIL: JsonlOptions = { onBadLine: 'fail' };
const SKIP: JsonlOptions = { onBadLine: 'skip' };

async function collect(path: string, opts: JsonlOptions): Promise<JsonlRow[]> {
  const rows: JsonlRow[] = [];
  for await (const row of readJsonl(path, opts)) rows.push(row);
  return rows;
}

function isDataError(where: { file?: string; line?: number }, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AvaError, String(e));
    assert.equal(e.code, 'data');
    assert.deepEqual({ file: e.where.file, line: e.where.line }, where);
    if (message) assert.match(e.message, message);
    return true;
  };
}

test('readJsonl: rows with 1-based lines and byte offsets', async () => {
  const rows = await collect(fx('prefs.jsonl'), FAIL);
  const text = readFileSync(fx('prefs.jsonl'), 'utf8');
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 3]);
  assert.deepEqual(rows.map((r) => r.offset), [0, text.indexOf('\n') + 1, text.indexOf('\n', text.indexOf('\n') + 1) + 1]);
  assert.equal(rows[1].value.chosen, 'dogs bark');
});

test('readJsonl: CRLF, blank lines and a missing final newline', async () => {
  const reader = readJsonl(fx('crlf.jsonl'), FAIL);
  const rows: JsonlRow[] = [];
  for await (const row of reader) rows.push(row);
  const bytes = readFileSync(fx('crlf.jsonl'));
  assert.deepEqual(rows.map((r) => [r.line, r.value.a]), [[1, 1], [4, 2], [5, 3]]);
  assert.equal(rows[1].value.s, 'café');
  assert.deepEqual(rows.map((r) => r.offset), [0, bytes.indexOf('{"a": 2'), bytes.indexOf('{"a": 3')]);
  assert.deepEqual({ lines: reader.stats.lines, blank: reader.stats.blank, skipped: reader.stats.skipped }, { lines: 5, blank: 2, skipped: 0 });
});

test('readJsonl: a byte-order mark on line 1 is dropped', async () => {
  assert.deepEqual((await collect(fx('bom.jsonl'), FAIL)).map((r) => r.value), [{ a: 1 }]);
});

test('readJsonl: malformed lines fail with file:line, or are skipped and counted', async () => {
  await assert.rejects(collect(fx('bad-json.jsonl'), FAIL), isDataError({ file: fx('bad-json.jsonl'), line: 2 }, /malformed JSON/));
  const reader = readJsonl(fx('bad-json.jsonl'), SKIP);
  const rows: JsonlRow[] = [];
  for await (const row of reader) rows.push(row);
  assert.deepEqual(rows.map((r) => r.value.a), [1, 5]);
  assert.equal(reader.stats.skipped, 3);
  assert.deepEqual(reader.stats.badLines.map((b) => b.line), [2, 3, 4]);
  assert.match(reader.stats.badLines[1].message, /expected a JSON object, found an array/);
  assert.match(reader.stats.badLines[2].message, /found a string/);
});

test('readJsonl: invalid UTF-8 fails naming the line, whatever the policy', async () => {
  for (const opts of [FAIL, SKIP]) {
    await assert.rejects(collect(fx('bad-utf8.jsonl'), opts), isDataError({ file: fx('bad-utf8.jsonl'), line: 2 }, /UTF-8/));
  }
});

test('readJsonl: missing, empty and blank-only files are data errors naming the file', async () => {
  await assert.rejects(collect(fx('nope.jsonl'), FAIL), isDataError({ file: fx('nope.jsonl'), line: undefined }, /not found/));
  await assert.rejects(collect(fx('empty.jsonl'), FAIL), isDataError({ file: fx('empty.jsonl'), line: undefined }, /empty/));
  await assert.rejects(collect(fx('blank.jsonl'), SKIP), isDataError({ file: fx('blank.jsonl'), line: undefined }, /empty/));
  await assert.rejects(collect(FIX, FAIL), isDataError({ file: FIX, line: undefined }, /directory/));
});

test('reader.reject applies the same policy to rows the caller cannot use', async () => {
  const failing = readJsonl(fx('prefs.jsonl'), FAIL);
  await assert.rejects(
    (async () => {
      for await (const row of failing) failing.reject(row.line, 'field "x" is missing', 'x');
    })(),
    (e: unknown) => e instanceof AvaError && e.where.line === 1 && e.where.key === 'x',
  );
  const skipping = readJsonl(fx('prefs.jsonl'), SKIP);
  for await (const row of skipping) if (row.line !== 2) skipping.reject(row.line, 'nope', 'x');
  assert.equal(skipping.stats.skipped, 2);
  assert.deepEqual(skipping.stats.badLines, [{ line: 1, message: 'nope', key: 'x' }, { line: 3, message: 'nope', key: 'x' }]);
});

test('readJsonl: an aborted signal stops the read', async () => {
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(collect(fx('prefs.jsonl'), { onBadLine: 'fail', signal: ctl.signal }), { name: 'AbortError' });
});

test('readJsonl and JsonlIndex agree on a multi-chunk file with long lines and multi-byte text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-jsonl-'));
  try {
    const path = join(dir, 'big.jsonl');
    const lines = Array.from({ length: 400 }, (_, i) => (i % 37 === 5 ? '' : JSON.stringify({ i, s: 'é🤖'.repeat((i * 97) % 900) })));
    writeFileSync(path, lines.join('\r\n') + '\r\n');
    const rows = await collect(path, FAIL);
    const expected = lines.flatMap((l, k) => (l === '' ? [] : [{ line: k + 1, i: JSON.parse(l).i, s: JSON.parse(l).s }]));
    assert.deepEqual(rows.map((r) => ({ line: r.line, i: r.value.i, s: r.value.s })), expected);
    const bytes = readFileSync(path);
    for (const r of rows) assert.equal(bytes.subarray(r.offset, r.offset + 6).toString(), '{"i":' + String(r.value.i)[0]);

    const index = await JsonlIndex.open(path);
    try {
      assert.equal(await index.readLine(3), lines[2]);
      assert.ok(index.bytesScanned <= 1 << 16, 'line 3 needs only the first chunk');
      assert.equal(await index.readLine(399), lines[398]);
      assert.equal(await index.readLine(6), '');
      assert.equal(await index.lineAtOffset(rows[100].offset), rows[100].line);
      assert.equal(await index.lineAtOffset(rows[100].offset + 3), rows[100].line);
      await assert.rejects(index.readLine(401), isDataError({ file: path, line: 401 }, /past the end/));
      appendFileSync(path, '{"late": true}');
      assert.equal(await index.readLine(401), '{"late": true}');
    } finally {
      await index.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JsonlIndex: CRLF fixture lines, missing file', async () => {
  const index = await JsonlIndex.open(fx('crlf.jsonl'));
  try {
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((n) => index.readLine(n))), ['{"a": 1}', '', '   ', '{"a": 2, "s": "café"}', '{"a": 3}']);
    await assert.rejects(index.readLine(0), AvaError);
  } finally {
    await index.close();
  }
  await assert.rejects(JsonlIndex.open(fx('nope.jsonl')), isDataError({ file: fx('nope.jsonl'), line: undefined }));
});
