/** `ava-lab validate <exp.ava.yaml>`: every problem of an experiment file, with file:line:column and key. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvaError, EXIT } from '../../core/errors.js';
import { validateExperimentFile } from '../../core/experiment/load.js';
import type { Reporter } from '../reporter.js';

export async function validateCommand(argv: string[], rep: Reporter): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AvaError('usage', 'usage: ava-lab validate <experiment.ava.yaml> [--json]');
  const file = resolve(positionals[0]);
  const diagnostics = await validateExperimentFile(file);
  const ok = !diagnostics.some((d) => d.severity === 'error');
  rep.emit({ type: 'validation', file, ok, diagnostics });
  for (const d of diagnostics) rep.print(`${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.key ? d.key + ': ' : ''}${d.message}`);
  if (ok) rep.print(`${file}: ok`);
  return ok ? EXIT.ok : EXIT.config;
}
