/**
 * Backend choice (`engine.backend`): the native TensorFlow binding when the user installed it,
 * else WebAssembly, else plain JavaScript. Facts behind the order (docs/offline-environment.md):
 * - `@tensorflow/tfjs-node(-gpu)` are optional: they need libtensorflow (and CUDA 11.2 + cuDNN 8
 *   for the GPU build) and often cannot be installed, so they are imported at run time only;
 * - tfjs-node-gpu without its CUDA libraries silently runs on the CPU, so the device really
 *   obtained is checked and a loud warning is logged;
 * - `wasm` is single-threaded under Node and ~20x faster than `cpu` with the ops of ./fastops.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
// A named import, not a bare one: the package declares its entry side-effect free, so a
// bundler would drop `import '@tensorflow/tfjs-backend-cpu'` and with it the backend's registration.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackendChoice } from '../experiment/config.js';
import { AvaError } from '../errors.js';
import { registerGradients } from './gradients.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, msg: string) => void;

/** What the run really got; written to the run's env.json and shown in the UI. */
export interface EngineInfo {
  backend: 'tensorflow' | 'wasm' | 'cpu';
  /** Human-readable device: `GPU: <name> (<memory>)`, `CPU (libtensorflow)`, `wasm (SIMD, 1 thread)`, … */
  device: string;
  requested: BackendChoice;
  /** Why the requested backend was not used, when it was not. */
  fallbackReason?: string;
  tfjsVersion: string;
}

type Attempt = { ok: true; info: Omit<EngineInfo, 'requested' | 'fallbackReason'> } | { ok: false; reason: string };

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const WASM_MAIN_BINARY = 'tfjs-backend-wasm.wasm';

/**
 * Selects and initialises the backend, registers the gradients, and reports the outcome.
 * `auto`: tensorflow → wasm → cpu. `tensorflow`: fails with an AvaError when neither native
 * package loads. `wasm`: falls back to cpu with a warning. `cpu`: cpu.
 */
export async function initBackend(choice: BackendChoice, log: LogFn): Promise<EngineInfo> {
  // Production mode: no debug checks, and no console banner suggesting tfjs-node (we report the choice ourselves).
  tf.env().set('PROD', true);
  await registerGradients();
  const reasons: string[] = [];
  for (const candidate of candidatesFor(choice)) {
    const attempt = await tryBackend(candidate, log);
    if (attempt.ok) {
      const info: EngineInfo = { ...attempt.info, requested: choice };
      if (reasons.length > 0) info.fallbackReason = reasons.join('; ');
      if (reasons.length > 0 && choice !== 'auto') log('warn', `engine.backend '${choice}' unavailable (${info.fallbackReason}); using ${info.backend}`);
      log('info', `backend ${info.backend} on ${info.device} (tfjs ${info.tfjsVersion})`);
      return info;
    }
    reasons.push(attempt.reason);
    if (candidate === 'tensorflow' && choice === 'tensorflow') throw tensorflowMissing(attempt.reason);
    log(choice === 'auto' && candidate === 'tensorflow' ? 'info' : 'warn', `backend ${candidate} unavailable: ${attempt.reason}`);
  }
  throw new AvaError('backend', `no TensorFlow.js backend could be initialised: ${reasons.join('; ')}`, { key: 'engine.backend' });
}

function candidatesFor(choice: BackendChoice): EngineInfo['backend'][] {
  switch (choice) {
    case 'auto':
      return ['tensorflow', 'wasm', 'cpu'];
    case 'tensorflow':
      return ['tensorflow'];
    case 'wasm':
      return ['wasm', 'cpu'];
    case 'cpu':
      return ['cpu'];
  }
}

function tryBackend(backend: EngineInfo['backend'], log: LogFn): Promise<Attempt> {
  if (backend === 'tensorflow') return tryTensorflow(log);
  if (backend === 'wasm') return tryWasm(log);
  return tryCpu();
}

// ---- native TensorFlow (optional packages) -------------------------------------------------

/** The NodeJSKernelBackend's device flags (tfjs-node 4.x). */
interface NativeBackendFlags {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

async function tryTensorflow(log: LogFn): Promise<Attempt> {
  const failures: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(/* a variable keeps bundlers and tsc from requiring it */ pkg as string);
    } catch (err) {
      failures.push(`${pkg} ${isModuleNotFound(err) ? 'is not installed' : `failed to load: ${firstLine(err)}`}`);
      continue;
    }
    if (!(await tf.setBackend('tensorflow'))) {
      failures.push(`${pkg} loaded but its 'tensorflow' backend did not initialise`);
      continue;
    }
    const flags = tf.backend() as unknown as NativeBackendFlags;
    const onGpu = flags.isUsingGpuDevice === true;
    if (pkg === '@tensorflow/tfjs-node-gpu' && !onGpu) {
      log(
        'warn',
        'GPU REQUESTED BUT NOT USED: @tensorflow/tfjs-node-gpu registered no GPU and runs on the CPU. ' +
          'It needs the CUDA 11.2 runtime (libcudart.so.11.0) and cuDNN 8 on LD_LIBRARY_PATH; see the README.',
      );
    }
    const device = onGpu ? `GPU: ${await describeNvidiaGpu()}` : 'CPU (libtensorflow)';
    return { ok: true, info: { backend: 'tensorflow', device, tfjsVersion: tf.version_core } };
  }
  return { ok: false, reason: failures.join(', ') };
}

function tensorflowMissing(reason: string): AvaError {
  return new AvaError(
    'backend',
    `engine.backend is 'tensorflow' but no native TensorFlow.js package could be loaded (${reason}). ` +
      'Install one beside AVA Lab: `npm install @tensorflow/tfjs-node` (CPU) or `npm install @tensorflow/tfjs-node-gpu` ' +
      '(NVIDIA GPU; needs libcudart.so.11.0 and cuDNN 8 on LD_LIBRARY_PATH), or set engine.backend to auto, wasm or cpu.',
    { key: 'engine.backend' },
  );
}

/** Name and memory of the first NVIDIA GPU from `nvidia-smi`, or a generic label. */
function describeNvidiaGpu(): Promise<string> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { timeout: 5000 }, (err, stdout) => {
      const first = err ? '' : stdout.split('\n')[0].trim();
      resolve(first ? first.replace(/,\s*/, ' (') + ')' : 'CUDA device (name unavailable)');
    });
  });
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

// ---- WebAssembly -------------------------------------------------------------------------

async function tryWasm(log: LogFn): Promise<Attempt> {
  const dir = wasmBinaryDir(log);
  if (dir !== null) setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (err) {
    return { ok: false, reason: `wasm failed to initialise: ${firstLine(err)}` };
  }
  if (!ok) return { ok: false, reason: `wasm failed to initialise${dir ? ` (binaries from ${dir})` : ''}` };
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = getThreadsCount();
  const device = `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'})`;
  return { ok: true, info: { backend: 'wasm', device, tfjsVersion: tf.version_core } };
}

/**
 * Where the wasm binaries are when they are not inside node_modules: `AVA_WASM_DIR`, or the
 * directory of the bundle (dist/cli.cjs, where scripts/build.mjs copies them). From source
 * (null) tfjs finds them in its own package.
 */
function wasmBinaryDir(log: LogFn): string | null {
  const fromEnv = process.env.AVA_WASM_DIR;
  if (fromEnv) {
    if (existsSync(join(fromEnv, WASM_MAIN_BINARY))) return fromEnv;
    log('warn', `AVA_WASM_DIR=${fromEnv} holds no ${WASM_MAIN_BINARY}; ignoring it`);
  }
  const here = typeof __filename === 'string' ? dirname(__filename) : null; // defined in the CJS bundle only
  if (here !== null && readdirSync(here).some((f) => f.endsWith('.wasm'))) return here;
  return null;
}

// ---- plain JavaScript ----------------------------------------------------------------------

async function tryCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'cpu failed to initialise' };
  return { ok: true, info: { backend: 'cpu', device: `cpu (JavaScript, 1 thread; tfjs-backend-cpu ${version_cpu})`, tfjsVersion: tf.version_core } };
}
