/**
 * Checkpoints: one directory per checkpoint (src/core/run/layout.ts names the files).
 *
 *   weights.bin      every tensor's float32 values, little-endian, concatenated
 *   meta.json        CheckpointMeta: format, tensor table (name, shape, byte offset, length), caller's meta
 *   tokenizer.json   the tokenizer, as given
 *   optimizer.bin    (optional) AdamW moments m and v, float32 little-endian, concatenated
 *   optimizer.json   (optional) OptimizerMeta: step and the moment table
 *
 * A checkpoint is written to `<dir>.tmp-<pid>` and renamed into place, so a reader sees either
 * the old complete directory or the new complete one. Byte order: the host's, which is
 * little-endian on every platform Node and TF.js support in practice (x64, arm64).
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AdamWState } from '../engine/optim.js';
import { AvaError } from '../errors.js';
import { CHECKPOINT_META, CHECKPOINT_TOKENIZER, CHECKPOINT_WEIGHTS } from '../run/layout.js';

/** Not (yet) in layout.ts: the optional optimizer state files. */
export const CHECKPOINT_OPTIMIZER_META = 'optimizer.json';
export const CHECKPOINT_OPTIMIZER_STATE = 'optimizer.bin';

const FORMAT = 'ava-lab-checkpoint';
const VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Byte offset into the .bin file. */
  offset: number;
  /** Number of float32 values. */
  length: number;
}

export interface CheckpointMeta {
  format: typeof FORMAT;
  version: number;
  dtype: 'float32';
  byteLength: number;
  tensors: TensorEntry[];
  /** Whatever the caller passed as `meta` (config, step, metrics, …). */
  meta: Record<string, unknown>;
}

interface OptimizerMeta {
  step: number;
  byteLength: number;
  m: TensorEntry[];
  v: TensorEntry[];
}

export interface CheckpointContent {
  weights: Map<string, tf.Tensor | tf.Variable>;
  optimizer?: AdamWState;
  meta: object;
  tokenizer: object;
}

export interface LoadedCheckpoint {
  weights: Map<string, tf.Tensor>;
  meta: Record<string, unknown>;
  tokenizer: unknown;
  optimizer?: AdamWState;
}

// ---- save ----------------------------------------------------------------------------------

/** Writes a complete checkpoint to `dir` atomically (replacing an older one there). */
export async function saveCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  const arrays: [string, number[], Float32Array][] = [];
  for (const [name, t] of content.weights) {
    if (t.dtype !== 'float32') throw new Error(`saveCheckpoint: ${name} is ${t.dtype}; only float32 tensors are stored`);
    arrays.push([name, t.shape, (await t.data()) as Float32Array]);
  }
  const weights = packFloat32(arrays);
  const meta: CheckpointMeta = { format: FORMAT, version: VERSION, dtype: 'float32', byteLength: weights.bytes.byteLength, tensors: weights.table, meta: content.meta as Record<string, unknown> };

  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await fs.writeFile(join(tmp, CHECKPOINT_WEIGHTS), weights.bytes);
  await fs.writeFile(join(tmp, CHECKPOINT_META), JSON.stringify(meta, null, 1));
  await fs.writeFile(join(tmp, CHECKPOINT_TOKENIZER), JSON.stringify(content.tokenizer));
  if (content.optimizer) await writeOptimizer(tmp, content.optimizer);
  await replaceDir(tmp, dir);
}

async function writeOptimizer(dir: string, state: AdamWState): Promise<void> {
  const names = Object.keys(state.m);
  const packed = packFloat32([...names.map((n) => [n, [state.m[n].length], state.m[n]] as [string, number[], Float32Array]), ...names.map((n) => [n, [state.v[n].length], state.v[n]] as [string, number[], Float32Array])]);
  const meta: OptimizerMeta = { step: state.step, byteLength: packed.bytes.byteLength, m: packed.table.slice(0, names.length), v: packed.table.slice(names.length) };
  await fs.writeFile(join(dir, CHECKPOINT_OPTIMIZER_STATE), packed.bytes);
  await fs.writeFile(join(dir, CHECKPOINT_OPTIMIZER_META), JSON.stringify(meta));
}

function packFloat32(arrays: [string, number[], Float32Array][]): { bytes: Buffer; table: TensorEntry[] } {
  const table: TensorEntry[] = [];
  let offset = 0;
  for (const [name, shape, values] of arrays) {
    table.push({ name, shape, offset, length: values.length });
    offset += values.byteLength;
  }
  const bytes = Buffer.alloc(offset);
  arrays.forEach(([, , values], i) => bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), table[i].offset));
  return { bytes, table };
}

/** Renames `tmp` to `dir`, moving an existing `dir` aside first and deleting it after. */
async function replaceDir(tmp: string, dir: string): Promise<void> {
  const old = `${dir}.old-${process.pid}`;
  const hadOld = await exists(dir);
  if (hadOld) await fs.rename(dir, old);
  await fs.rename(tmp, dir);
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

// ---- load ----------------------------------------------------------------------------------

/** Reads a checkpoint written by saveCheckpoint; every problem is an AvaError('checkpoint'). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  if (!(await exists(dir))) throw new AvaError('checkpoint', `no checkpoint directory at ${dir}`, { file: dir });
  const meta = checkMeta(await readJson(join(dir, CHECKPOINT_META)), join(dir, CHECKPOINT_META));
  const weightsFile = join(dir, CHECKPOINT_WEIGHTS);
  const bytes = await readBinary(weightsFile, meta.byteLength);
  const weights = new Map<string, tf.Tensor>();
  for (const e of meta.tensors) weights.set(e.name, tf.tensor(float32At(bytes, e), e.shape, 'float32'));
  const tokenizer = await readJson(join(dir, CHECKPOINT_TOKENIZER));
  const optimizer = await loadOptimizer(dir);
  return { weights, meta: meta.meta, tokenizer, ...(optimizer ? { optimizer } : {}) };
}

async function loadOptimizer(dir: string): Promise<AdamWState | undefined> {
  const metaFile = join(dir, CHECKPOINT_OPTIMIZER_META);
  if (!(await exists(metaFile))) return undefined;
  const raw = (await readJson(metaFile)) as Partial<OptimizerMeta>;
  if (typeof raw.step !== 'number' || typeof raw.byteLength !== 'number' || !Array.isArray(raw.m) || !Array.isArray(raw.v)) {
    throw corrupt(metaFile, 'expected { step, byteLength, m, v }');
  }
  for (const e of [...raw.m, ...raw.v]) checkEntry(e, raw.byteLength, metaFile);
  const bytes = await readBinary(join(dir, CHECKPOINT_OPTIMIZER_STATE), raw.byteLength);
  const read = (entries: TensorEntry[]) => Object.fromEntries(entries.map((e) => [e.name, float32At(bytes, e)]));
  return { step: raw.step, m: read(raw.m), v: read(raw.v) };
}

function checkMeta(raw: unknown, file: string): CheckpointMeta {
  const m = raw as Partial<CheckpointMeta>;
  if (m?.format !== FORMAT) throw corrupt(file, `not an AVA Lab checkpoint (format ${JSON.stringify(m?.format)})`);
  if (m.version !== VERSION) throw corrupt(file, `checkpoint version ${m.version} is not supported (expected ${VERSION})`);
  if (m.dtype !== 'float32' || typeof m.byteLength !== 'number' || !Array.isArray(m.tensors)) throw corrupt(file, 'missing dtype, byteLength or tensors');
  for (const e of m.tensors) checkEntry(e, m.byteLength, file);
  return { ...m, meta: (m.meta ?? {}) as Record<string, unknown> } as CheckpointMeta;
}

function checkEntry(e: TensorEntry, byteLength: number, file: string): void {
  const ok =
    typeof e?.name === 'string' &&
    Array.isArray(e.shape) &&
    e.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    Number.isInteger(e.offset) &&
    e.offset % 4 === 0 &&
    e.length === e.shape.reduce((a, b) => a * b, 1) &&
    e.offset + 4 * e.length <= byteLength;
  if (!ok) throw corrupt(file, `bad tensor entry ${JSON.stringify(e)}`);
}

function float32At(bytes: Buffer, e: TensorEntry): Float32Array {
  const copy = new Uint8Array(4 * e.length);
  copy.set(bytes.subarray(e.offset, e.offset + 4 * e.length));
  return new Float32Array(copy.buffer);
}

async function readBinary(file: string, expectedBytes: number): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new AvaError('checkpoint', `missing checkpoint file ${file}`, { file });
  }
  if (bytes.byteLength !== expectedBytes) {
    throw corrupt(file, `has ${bytes.byteLength} bytes but its metadata says ${expectedBytes} (truncated or from another checkpoint)`);
  }
  return bytes;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AvaError('checkpoint', `missing checkpoint file ${file}`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `invalid JSON (${(err as Error).message})`);
  }
}

function corrupt(file: string, why: string): AvaError {
  return new AvaError('checkpoint', `corrupt checkpoint: ${why}`, { file });
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}
