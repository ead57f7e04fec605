/**
 * `ava-lab`: the headless backend. The same YAML runs here, in the VS Code extension
 * (which starts this process and reads its `--json` events) and on a remote machine.
 */
import { AvaError, EXIT } from '../core/errors.js';
import { createReporter, type Reporter } from './reporter.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { dataCommand } from './commands/data.js';
import { evalCommand } from './commands/eval.js';
import { rewardsCommand } from './commands/rewards.js';
import { serveCommand } from './commands/serve.js';
import { reportCommand } from './commands/report.js';
import { sampleCommand } from './commands/sample.js';
import { winratesCommand } from './commands/winrates.js';
import { afdCommand } from './commands/afd.js';
import { submitCommand } from './commands/submit.js';
import { cancelCommand, statusCommand } from './commands/status.js';
import { AVA_LAB_VERSION } from '../core/train/environment.js';

const USAGE = `ava-lab ${AVA_LAB_VERSION}: AVA reward models and baselines, from experiment YAML to run directories

usage:
  ava-lab run <exp.ava.yaml> [--out DIR] [--runs-root DIR] [--resume GRID_DIR] [--only VARIANT] [--seed N] [--jobs N|auto] [--backend auto|tensorflow|wasm|cpu] [--json]
  ava-lab submit <exp.ava.yaml> --slurm [--resume GRID_DIR] [--dry-run] [--partition P] [--account A] [--time T] [--mem M] [--gres G] [--cpus-per-task N] [--sbatch=LINE] [--setup TEXT]
                                       (one Slurm job array, one task per grid cell; options also under cluster: in the YAML)
  ava-lab status <grid_dir> [--json]   (each cell: queued / running / finished / failed / cancelled, with Slurm's reason)
  ava-lab cancel <grid_dir> [--only VARIANT] [--seed N]   (scancel the grid's Slurm tasks)
  ava-lab validate <exp.ava.yaml> [--json]
  ava-lab eval <run_dir> <data.jsonl> [--json]
  ava-lab report <grid_dir> [--baseline bt|METHOD|VARIANT] [--format md|csv|latex|json]   (mean ± std over seeds, McNemar / paired t vs the baseline, methods × tasks; writes report.md)
  ava-lab sample <run_dir> <prompts.jsonl> [--n N] [--temperature T] [--top-k K] [--top-p P] [--max-new-tokens M] [--policy lm|q] [--seed S] [--out FILE]
                                       (JSON lines: prompt, sample, response, finish, logp, gold on built-in tasks)
  ava-lab winrates <grid_dir> [--experiment FILE]   (Best-of-N / policies judged win / tie / lose; writes <grid>/winrates/)
  ava-lab afd <demos.jsonl> --init RUN_DIR [--sft RUN_DIR] [--mode init_sft|init_demo|sft_demo] --out pairs.jsonl
                                       (AfD preference pairs from demonstrations, for any pairwise objective)
  ava-lab rewards <run_dir> <data.jsonl> --line N [--json]
  ava-lab serve --json                 (stdin requests → stdout responses; used by the VS Code hover)
  ava-lab data make <task> --out DIR [--seed N] [--n-train N] [--n-eval N] [--noise P] [--noise-model flip|bt]

--json writes the versioned JSON-lines event protocol (src/protocol/events.ts) on stdout.
Ctrl-C / SIGTERM during a run writes a checkpoint and exits; --resume continues from it.`;

const EXIT_BY_CODE: Record<AvaError['code'], number> = { usage: EXIT.usage, config: EXIT.config, data: EXIT.data, numeric: EXIT.numeric, checkpoint: EXIT.failure, backend: EXIT.failure };

async function dispatch(command: string | undefined, argv: string[], rep: Reporter, signal: AbortSignal): Promise<number> {
  switch (command) {
    case 'run':
      return runCommand(argv, rep, signal);
    case 'submit':
      return submitCommand(argv, rep);
    case 'status':
      return statusCommand(argv, rep);
    case 'cancel':
      return cancelCommand(argv, rep);
    case 'validate':
      return validateCommand(argv, rep);
    case 'eval':
      return evalCommand(argv, rep);
    case 'rewards':
      return rewardsCommand(argv, rep);
    case 'report':
      return reportCommand(argv, rep);
    case 'sample':
      return sampleCommand(argv, rep, signal);
    case 'winrates':
      return winratesCommand(argv, rep, signal);
    case 'afd':
      return afdCommand(argv, rep, signal);
    case 'serve':
      return serveCommand(argv, rep);
    case 'data':
      return dataCommand(argv, rep);
    case '--version':
    case 'version':
      rep.print(AVA_LAB_VERSION);
      return EXIT.ok;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      rep.print(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new AvaError('usage', `unknown command '${command}' (commands: run, submit, status, cancel, validate, eval, report, rewards, serve, data)`);
  }
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const rep = createReporter({ json: rest.includes('--json'), verbose: rest.includes('--verbose') });
  // First Ctrl-C / SIGTERM: stop cleanly (checkpoint, status `stopped`). A second one: exit now.
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    // Only `run` has work to save; every other command ends at once.
    if (controller.signal.aborted || command !== 'run') process.exit(EXIT.interrupted);
    rep.log('warn', `${sig}: stopping after the current step (checkpoint is written); send again to exit at once`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await dispatch(command, rest.filter((a) => a !== '--verbose'), rep, controller.signal);
  } catch (e) {
    if (e instanceof AvaError) {
      rep.emit({ type: 'error', message: e.format() });
      if (!rep.json) for (const d of e.details.slice(0, 20)) process.stderr.write(`  ${d}\n`);
      return EXIT_BY_CODE[e.code];
    }
    const err = e as Error & { code?: string };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')) {
      // node:util parseArgs: an unknown flag or a missing value is a usage error, not a bug.
      rep.emit({ type: 'error', message: `${err.message.split('\n')[0]} (ava-lab ${command ?? ''} --help lists the options)` });
      return EXIT.usage;
    }
    rep.emit({ type: 'error', message: `internal error: ${err.message}` });
    process.stderr.write(`${err.stack ?? err.message}\nThis is a bug in ava-lab; please report it with the command you ran.\n`);
    return EXIT.failure;
  } finally {
    rep.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
