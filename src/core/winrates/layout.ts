/**
 * Where the win-rate stage writes (./run.ts has the full list): plain names and the PPO run
 * directories, with no TensorFlow import so the extension's Runs view can list them.
 *
 *   <grid>/winrates/seed-<n>/ppo-<variant>/   one PPO run: config.yaml, status.json, metrics.jsonl
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const WINRATES_DIR = 'winrates';
export const WINRATES_REPORT = 'winrates.json';
export const WINRATES_MARKDOWN = 'winrates.md';
const PPO_PREFIX = 'ppo-';

/** The directory of the PPO run of seed `seed` against the reward model of `variantName` (`base` for ''). */
export function ppoRunDir(gridDir: string, seed: number, variantName: string): string {
  return join(gridDir, WINRATES_DIR, `seed-${seed}`, `${PPO_PREFIX}${variantName}`);
}

export interface PpoRunRef {
  dir: string;
  seed: number;
  /** The reward model's variant as the folder names it. */
  rewardVariant: string;
}

/** Every PPO run directory of a grid, by seed then name. */
export function listPpoRuns(gridDir: string): PpoRunRef[] {
  const out: PpoRunRef[] = [];
  for (const seedDir of entries(join(gridDir, WINRATES_DIR))) {
    const m = /^seed-(\d+)$/.exec(seedDir);
    if (!m) continue;
    for (const name of entries(join(gridDir, WINRATES_DIR, seedDir))) {
      if (name.startsWith(PPO_PREFIX) && name.length > PPO_PREFIX.length) out.push({ dir: join(gridDir, WINRATES_DIR, seedDir, name), seed: Number(m[1]), rewardVariant: name.slice(PPO_PREFIX.length) });
    }
  }
  return out.sort((a, b) => a.seed - b.seed || a.rewardVariant.localeCompare(b.rewardVariant));
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
