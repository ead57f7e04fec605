/**
 * Pretrained GPT-2 weights from a local Hugging Face folder (`model.safetensors`, optionally
 * `config.json`), for `model.init_from`. Nothing is downloaded.
 *
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: … }`, then the data,
 * offsets relative to its start. GPT-2 stores its dense layers as Conv1D with weights
 * [in, out], which is TQR's layout, so tensors map one to one by name:
 *   `transformer.h.0.attn.c_attn.weight` (or without the prefix) → `h.0.attn.c_attn.weight`;
 *   `lm_head.weight` is tied to `wte.weight` and skipped, as are the attention-mask buffers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { AvaError } from '../errors.js';

export const GPT2_WEIGHTS_FILE = 'model.safetensors';
export const GPT2_CONFIG_FILE = 'config.json';

export interface RawTensor {
  shape: number[];
  values: Float32Array;
}

/** The model shape a GPT-2 config.json describes, in ModelConfig's terms. */
export interface Gpt2Shape {
  n_layer: number;
  n_head: number;
  d_model: number;
  /** n_positions. */
  context: number;
  vocabSize: number;
}

/** Parses a safetensors file into float32 tensors (F32, F16 and BF16 are read). */
export function parseSafetensors(bytes: Uint8Array, file: string): Map<string, RawTensor> {
  const bad = (why: string) => new AvaError('checkpoint', `not a valid safetensors file: ${why}`, { file });
  if (bytes.byteLength < 8) throw bad('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) throw bad(`header of ${headerLength} bytes runs past the end of the file`);
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, RawTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!Array.isArray(shape) || !Array.isArray(offsets) || typeof dtype !== 'string') throw bad(`entry ${name} lacks dtype, shape or data_offsets`);
    const [begin, end] = offsets;
    if (!(begin >= 0 && begin <= end && dataStart + end <= bytes.byteLength)) throw bad(`entry ${name} points outside the file`);
    const count = shape.reduce((a, b) => a * b, 1);
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { shape, values: toFloat32(raw, dtype, count, name, bad) });
  }
  return tensors;
}

/** Decodes little-endian F32/F16/BF16 data into a fresh Float32Array. */
function toFloat32(raw: Uint8Array, dtype: string, count: number, name: string, bad: (why: string) => AvaError): Float32Array {
  const width = { F32: 4, F16: 2, BF16: 2 }[dtype];
  if (width === undefined) throw bad(`entry ${name} has dtype ${dtype}; only F32, F16 and BF16 are supported`);
  if (raw.byteLength !== width * count) throw bad(`entry ${name} has ${raw.byteLength} bytes for ${count} ${dtype} values`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === 'F32') out[i] = view.getFloat32(4 * i, true);
    else if (dtype === 'BF16') out[i] = bf16ToFloat(view.getUint16(2 * i, true));
    else out[i] = f16ToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));

function bf16ToFloat(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

/** IEEE 754 half precision → number (subnormals, infinities and NaN included). */
function f16ToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The TQR name of a GPT-2 tensor, or null for tensors TQR does not hold (tied LM head, mask buffers). */
export function tqrNameForGpt2(name: string): string | null {
  const bare = name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
  if (bare === 'lm_head.weight' || /\.attn\.(masked_)?bias$/.test(bare)) return null;
  return bare;
}

/**
 * Reads `<dir>/model.safetensors` into TQR-named tensors, for `TQR.loadWeights(w, { strict: false })`.
 * @param opts.context keep only the first `context` position embeddings (GPT-2 has 1024)
 * @param opts.vocabRows keep only these token-embedding rows, in this order (a tokenizer remapped
 *   to the ids the data uses: row k of the result is GPT-2 token vocabRows[k])
 */
export async function loadGpt2Weights(dir: string, opts: { context?: number; vocabRows?: number[] } = {}): Promise<Map<string, tf.Tensor>> {
  const file = join(dir, GPT2_WEIGHTS_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new AvaError('checkpoint', `no ${GPT2_WEIGHTS_FILE} in ${dir}`, { file, key: 'model.init_from' });
  }
  const weights = new Map<string, tf.Tensor>();
  for (const [name, t] of parseSafetensors(bytes, file)) {
    const target = tqrNameForGpt2(name);
    if (target === null) continue;
    weights.set(target, tf.tidy(() => adapt(target, tf.tensor(t.values, t.shape, 'float32'), opts, file)));
  }
  return weights;
}

/** Applies the context and vocabulary selections to wpe and wte. */
function adapt(name: string, t: tf.Tensor, opts: { context?: number; vocabRows?: number[] }, file: string): tf.Tensor {
  if (name === 'wpe.weight' && opts.context !== undefined) {
    if (opts.context > t.shape[0]) {
      throw new AvaError('checkpoint', `model.context ${opts.context} exceeds the ${t.shape[0]} positions of the pretrained model`, { file, key: 'model.context' });
    }
    return tf.slice(t, [0, 0], [opts.context, t.shape[1]!]);
  }
  if (name === 'wte.weight' && opts.vocabRows !== undefined) {
    const outside = opts.vocabRows.find((r) => !(Number.isInteger(r) && r >= 0 && r < t.shape[0]));
    if (outside !== undefined) throw new AvaError('checkpoint', `token id ${outside} is outside the pretrained vocabulary of ${t.shape[0]}`, { file });
    return tf.gather(t, tf.tensor1d(opts.vocabRows, 'int32'));
  }
  return t;
}

/** The model shape in `<dir>/config.json` (GPT-2 keys), to check or fill the YAML's model section. */
export async function readGpt2Shape(dir: string): Promise<Gpt2Shape> {
  const file = join(dir, GPT2_CONFIG_FILE);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new AvaError('checkpoint', `cannot read a GPT-2 config.json: ${(err as Error).message.split('\n')[0]}`, { file, key: 'model.init_from' });
  }
  const get = (key: string) => {
    const v = c[key];
    if (!Number.isInteger(v)) throw new AvaError('checkpoint', `config.json has no integer ${key}`, { file, key: 'model.init_from' });
    return v as number;
  };
  return { n_layer: get('n_layer'), n_head: get('n_head'), d_model: get('n_embd'), context: get('n_positions'), vocabSize: get('vocab_size') };
}
