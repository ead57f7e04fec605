/**
 * Per-kernel profile of one bench training step (tf.profile): where the time of a step goes,
 * by kernel name and by kernel + shapes.
 *
 *   node --import tsx bench/profile.ts [--backend wasm] [--objective lm|ava-p] [--top 25]
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/engine/backend.js';
import type { BackendChoice } from '../src/core/experiment/config.js';
import { makeBenchStep, type BenchObjective } from './setup.js';

type KernelRecord = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

interface Row {
  key: string;
  ms: number;
  calls: number;
}

function aggregate(kernels: KernelRecord[], keyOf: (k: KernelRecord) => string): Row[] {
  const rows = new Map<string, Row>();
  for (const k of kernels) {
    const key = keyOf(k);
    const row = rows.get(key) ?? { key, ms: 0, calls: 0 };
    row.ms += k.kernelTimeMs as number;
    row.calls += 1;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.ms - a.ms);
}

function print(title: string, rows: Row[], total: number, top: number): void {
  console.log(`\n${title}`);
  for (const r of rows.slice(0, top)) console.log(`${r.ms.toFixed(1).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%  ×${String(r.calls).padEnd(4)} ${r.key}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backend: { type: 'string' }, objective: { type: 'string' }, top: { type: 'string' } } });
  await initBackend((values.backend ?? 'wasm') as BackendChoice, () => {});
  const objective = (values.objective ?? 'lm') as BenchObjective;
  const top = Number(values.top ?? 25);
  const bench = await makeBenchStep(objective, 10);
  for (let i = 0; i < 3; i++) await bench.step();
  const t0 = performance.now();
  await bench.step();
  const wall = performance.now() - t0;
  const info = await tf.profile(() => void bench.step()); // the single-thread step is synchronous
  // A custom-gradient op is recorded as an 'unnamed scope' whose time includes the kernels inside it, recorded too.
  const kernels = info.kernels.filter((k) => k.name !== 'unnamed scope');
  const total = kernels.reduce((a, k) => a + (k.kernelTimeMs as number), 0);
  console.log(`${tf.getBackend()} ${objective}: step ${wall.toFixed(0)} ms wall (unprofiled), kernels ${total.toFixed(0)} ms, ${kernels.length} kernel calls, peak ${(info.peakBytes / 2 ** 20).toFixed(0)} MB; load ${loadavg()[0].toFixed(2)}`);
  print('by kernel', aggregate(kernels, (k) => k.name), total, top);
  print('by kernel and shapes', aggregate(kernels, (k) => `${k.name} ${JSON.stringify(k.inputShapes)}`), total, top);
  bench.dispose();
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
