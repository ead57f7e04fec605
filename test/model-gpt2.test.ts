import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/engine/backend.js';
import { AvaError } from '../src/core/errors.js';
import { DEFAULT_MODEL, type ModelConfig } from '../src/core/experiment/config.js';
import { GPT2_WEIGHTS_FILE, loadGpt2Weights, parseSafetensors, readGpt2Shape, tqrNameForGpt2 } from '../src/core/model/gpt2-weights.js';
import { TQR } from '../src/core/model/tqr.js';
import { headsFor } from '../src/core/objectives/table.js';

await initBackend('cpu', () => {});

const root = mkdtempSync(join(tmpdir(), 'ava-gpt2-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const CFG: ModelConfig = { ...DEFAULT_MODEL, n_layer: 2, n_head: 2, d_model: 8, context: 6, pref_attn_dim: 4 };
const V = 10;

type Entry = { name: string; shape: number[]; dtype: 'F32' | 'F16' | 'BF16' | 'I64'; data: Uint8Array };
const f32 = (name: string, shape: number[], values: ArrayLike<number>): Entry => ({ name, shape, dtype: 'F32', data: new Uint8Array(Float32Array.from(values).buffer) });

/** Writes a safetensors file the way the format describes it (u64 LE header length, JSON header, data). */
function safetensors(entries: Entry[]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([len, json, ...entries.map((e) => Buffer.from(e.data))]);
}

function folder(name: string, bytes: Buffer, config?: object): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, GPT2_WEIGHTS_FILE), bytes);
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const batch = { ids: tf.tensor2d([[0, 4, 9, 2, 7]], [1, 5], 'int32'), valid: tf.ones([1, 5]) as tf.Tensor2D, resp: tf.ones([1, 5]) as tf.Tensor2D, lengths: [5] };
const logitsOf = (m: TQR) => tf.tidy(() => Array.from(m.forward(batch, { logits: true }).logits!.dataSync()));

test('GPT-2 names map to TQR names; the tied LM head and mask buffers are skipped', () => {
  assert.equal(tqrNameForGpt2('transformer.h.3.attn.c_attn.weight'), 'h.3.attn.c_attn.weight');
  assert.equal(tqrNameForGpt2('wte.weight'), 'wte.weight');
  assert.equal(tqrNameForGpt2('transformer.ln_f.bias'), 'ln_f.bias');
  assert.equal(tqrNameForGpt2('lm_head.weight'), null);
  assert.equal(tqrNameForGpt2('h.0.attn.bias'), null);
  assert.equal(tqrNameForGpt2('transformer.h.0.attn.masked_bias'), null);
});

test('a GPT-2 safetensors folder loads into a TQR and reproduces the source model', async () => {
  const source = new TQR(CFG, V, { seed: 5, heads: headsFor('sft', CFG) });
  const entries: Entry[] = [];
  for (const [name, v] of source.variables()) {
    let values = v.dataSync();
    let shape = v.shape;
    if (name === 'wpe.weight') {
      // GPT-2 has more positions than the model uses: 4 extra rows that must be dropped.
      values = Float32Array.from([...values, ...new Array(4 * 8).fill(99)]);
      shape = [CFG.context + 4, 8];
    }
    entries.push(f32(`transformer.${name}`, shape, values));
  }
  entries.push(f32('lm_head.weight', [V, 8], source.variables().get('wte.weight')!.dataSync()));
  entries.push(f32('transformer.h.0.attn.bias', [1, 1, 2, 2], [1, 0, 1, 1]));
  const dir = folder('roundtrip', safetensors(entries), { n_layer: 2, n_head: 2, n_embd: 8, n_positions: 10, vocab_size: V });

  const weights = await loadGpt2Weights(dir, { context: CFG.context });
  assert.ok(!weights.has('lm_head.weight') && !weights.has('h.0.attn.bias'), 'skipped tensors');
  const target = new TQR(CFG, V, { seed: 9, heads: headsFor('ava-p', CFG) });
  target.loadWeights(weights, { strict: false });
  assert.deepEqual(logitsOf(target), logitsOf(source));
  assert.deepEqual(await readGpt2Shape(dir), { n_layer: 2, n_head: 2, d_model: 8, context: 10, vocabSize: V });
  tf.dispose([...weights.values()]);
  [source, target].forEach((m) => m.dispose());
});

test('vocabRows selects and orders token-embedding rows; a too long context is an error', async () => {
  const wte = Array.from({ length: 5 * 2 }, (_, i) => i);
  const dir = folder('vocab', safetensors([f32('wte.weight', [5, 2], wte), f32('wpe.weight', [3, 2], [0, 0, 1, 1, 2, 2])]));
  const w = await loadGpt2Weights(dir, { vocabRows: [4, 0, 2] });
  assert.deepEqual(Array.from(w.get('wte.weight')!.dataSync()), [8, 9, 0, 1, 4, 5]);
  tf.dispose([...w.values()]);
  await assert.rejects(loadGpt2Weights(dir, { context: 4 }), (e: unknown) => e instanceof AvaError && /exceeds the 3 positions/.test(e.message));
  await assert.rejects(loadGpt2Weights(dir, { vocabRows: [5] }), /outside the pretrained vocabulary/);
});

test('F16 and BF16 tensors are decoded to float32', () => {
  const half = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0xfc00]);
  const brain = new Uint16Array([0x3f80, 0xc000, 0x3f00]);
  const bytes = safetensors([
    { name: 'h', shape: [6], dtype: 'F16', data: new Uint8Array(half.buffer) },
    { name: 'b', shape: [3], dtype: 'BF16', data: new Uint8Array(brain.buffer) },
  ]);
  const t = parseSafetensors(bytes, 'x');
  assert.deepEqual(Array.from(t.get('h')!.values), [1, -2, 0.5, 65504, Math.fround(2 ** -24), -Infinity]);
  assert.deepEqual(Array.from(t.get('b')!.values), [1, -2, 0.5]);
});

test('broken safetensors files are clear checkpoint errors', async () => {
  const good = safetensors([f32('wte.weight', [2, 2], [1, 2, 3, 4])]);
  const cases: [Buffer, RegExp][] = [
    [good.subarray(0, 4), /shorter than its 8-byte header/],
    [good.subarray(0, 20), /runs past the end/],
    [good.subarray(0, good.byteLength - 4), /points outside the file/],
    [safetensors([{ name: 'x', shape: [1], dtype: 'I64', data: new Uint8Array(8) }]), /only F32, F16 and BF16/],
    [safetensors([{ name: 'x', shape: [3], dtype: 'F32', data: new Uint8Array(8) }]), /8 bytes for 3 F32 values/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => parseSafetensors(bytes, 'f.safetensors'), (e: unknown) => e instanceof AvaError && e.code === 'checkpoint' && e.where.file === 'f.safetensors' && pattern.test(e.message));
  }
  await assert.rejects(loadGpt2Weights(join(root, 'nowhere')), (e: unknown) => e instanceof AvaError && /no model\.safetensors/.test(e.message));
  await assert.rejects(readGpt2Shape(join(root, 'nowhere')), (e: unknown) => e instanceof AvaError && e.code === 'checkpoint');
});
