/** `ava-lab rewards <run_dir> <data.jsonl> --line N`: per-token reward mean/std/weight of one dataset line (spec §5), as JSON. */
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { LineRewardService } from '../../core/eval/lineRewards.js';
import type { Reporter } from '../reporter.js';
import { configuredBackend } from '../../core/eval/trained.js';
import { initBackend } from '../../core/engine/backend.js';
import type { BackendChoice } from '../../core/experiment/config.js';

export async function rewardsCommand(argv: string[], rep: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { line: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' } } });
  if (positionals.length !== 2 || values.line === undefined) throw new AvaError('usage', 'usage: ava-lab rewards <run_dir> <data.jsonl> --line N [--json]');
  const line = Number(values.line);
  await initBackend((values.backend as BackendChoice | undefined) ?? configuredBackend(positionals[0]), (level, msg) => rep.log(level, msg));
  const service = new LineRewardService();
  try {
    const result = await service.lineRewards(positionals[0], positionals[1], line);
    rep.emit({ type: 'rewards', run_dir: positionals[0], data: positionals[1], result });
    rep.print(JSON.stringify(result, null, 2));
    return EXIT.ok;
  } finally {
    service.dispose();
  }
}
