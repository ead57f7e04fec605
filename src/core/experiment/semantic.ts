/**
 * Checks that JSON Schema cannot express: relations between keys and files on disk. They run
 * on each grid cell's resolved sections (base merged with one variant), because a base config
 * that no cell runs unchanged may legitimately be incomplete (e.g. every variant sets a kind).
 */
import { existsSync, statSync } from 'node:fs';
import type { RunConfig } from './config.js';
import { isPairwise } from '../objectives/table.js';
import { afdOn, isCellRef } from './grid.js';
import { AFD_MODES } from '../generate/afd.js';
import { TASKS } from '../tasks/index.js';
import type { Issue, Segment } from './locate.js';

/** The sections of a run: what a variant merges into. */
export type Sections = Omit<RunConfig, 'name' | 'variant' | 'seed' | 'recipe'>;

/**
 * A problem of one cell. `paths` are the keys involved, most specific first; the loader
 * points at the first one the file writes (in the variant, else in the base).
 */
export interface CellIssue {
  paths: Segment[][];
  at: Issue['at'];
  message: string;
  severity: Issue['severity'];
}

const error = (paths: Segment[][], message: string, at: Issue['at'] = 'value'): CellIssue => ({ paths, at, message, severity: 'error' });
const warning = (paths: Segment[][], message: string, at: Issue['at'] = 'value'): CellIssue => ({ paths, at, message, severity: 'warning' });

/** Every key-relation and file check of one cell. */
export function cellIssues(c: Sections): CellIssue[] {
  return [...modelIssues(c), ...objectiveIssues(c), ...dataIssues(c), ...trainIssues(c), ...fileIssues(c)];
}

function modelIssues({ model }: Sections): CellIssue[] {
  const out: CellIssue[] = [];
  if (model.d_model % model.n_head !== 0) {
    out.push(error([['model', 'n_head'], ['model', 'd_model']], `n_head (${model.n_head}) must divide d_model (${model.d_model})`));
  }
  if (model.log_sigma_min >= model.log_sigma_max) {
    out.push(
      error([['model', 'log_sigma_min'], ['model', 'log_sigma_max']], `log_sigma_min (${model.log_sigma_min}) must be below log_sigma_max (${model.log_sigma_max})`),
    );
  }
  return out;
}

function objectiveIssues({ model, objective, data }: Sections): CellIssue[] {
  const out: CellIssue[] = [];
  // spec §2.2: with a fresh head, scaled_q (β·Q[a]) is unbounded and must not be used.
  if (objective.likelihood_form === 'scaled_q' && model.q_head === 'fresh') {
    out.push(
      error(
        [['objective', 'likelihood_form'], ['model', 'q_head']],
        'likelihood_form scaled_q is unbounded with a fresh Q head (spec §2.2); use auto or boltzmann, or q_head pretrained',
      ),
    );
  }
  // spec §7: AVA-d and SFT take demonstrations or chosen halves; pairwise objectives need pairs.
  if (afdOn(data.afd) && !isPairwise(objective.kind)) {
    out.push(error([['objective', 'kind'], ['data', 'afd']], `AfD pairs train a pairwise objective (ava-p, bt, pt, dpo); objective.kind is ${objective.kind}`));
  }
  if (isPairwise(objective.kind) && data.format === 'demonstration' && !afdOn(data.afd)) {
    out.push(
      error(
        [['objective', 'kind'], ['data', 'format']],
        `objective ${objective.kind} needs preference data, but data.format is demonstration (ava-d and sft accept demonstrations; data.afd builds pairs from them)`,
      ),
    );
  }
  return out;
}

function dataIssues({ data }: Sections): CellIssue[] {
  const out: CellIssue[] = [];
  if (data.task !== null && data.train !== null) {
    out.push(error([['data', 'train'], ['data', 'task']], 'set either data.task (a built-in task) or data.train (a JSONL file), not both', 'key'));
  } else if (data.task === null && data.train === null) {
    out.push(error([['data', 'task'], ['data', 'train'], ['data']], `no training data: set data.task (${Object.keys(TASKS).join(', ')}) or data.train (a JSONL file)`, 'key'));
  }
  if (data.task !== null && data.eval !== null) {
    out.push(warning([['data', 'eval']], 'data.eval is ignored with a built-in task, which generates its own held-out set', 'key'));
  }
  if (afdOn(data.afd)) {
    const mode = data.afd.pair_mode;
    const { chosen, rejected } = AFD_MODES[mode];
    for (const source of ['init', 'sft'] as const) {
      const used = chosen === source || rejected === source;
      const name = source === 'init' ? 'π_init' : 'π_SFT';
      if (used && data.afd[source] === null) out.push(error([['data', 'afd', 'pair_mode'], ['data', 'afd']], `pair_mode ${mode} samples from ${name}: set data.afd.${source} to the variant that trains it`));
      if (!used && data.afd[source] !== null) out.push(error([['data', 'afd', source]], `pair_mode ${mode} does not sample from ${name}: remove data.afd.${source}`));
    }
  }
  if (data.task !== null && data.task_options.noise_model === 'flip' && data.task_options.noise > 1) {
    out.push(error([['data', 'task_options', 'noise'], ['data', 'task_options', 'noise_model']], `a flip probability must be at most 1, found ${data.task_options.noise}`));
  }
  return out;
}

function trainIssues({ train }: Sections): CellIssue[] {
  const out: CellIssue[] = [];
  if (train.steps === 0 && train.pretrain_steps === 0) {
    out.push(error([['train', 'steps'], ['train', 'pretrain_steps']], 'steps and pretrain_steps are both 0: the run would train nothing'));
  }
  if (train.steps > 0 && train.warmup_steps > train.steps) {
    out.push(warning([['train', 'warmup_steps'], ['train', 'steps']], `warmup_steps (${train.warmup_steps}) exceeds steps (${train.steps}): the learning rate never reaches lr`));
  }
  // Metrics are written on logged steps only (counted from the run's start, the probe from the objective's).
  if (train.term_grads_every > 0 && (train.term_grads_every % train.log_every !== 0 || train.pretrain_steps % train.log_every !== 0)) {
    out.push(
      warning(
        [['train', 'term_grads_every'], ['train', 'log_every']],
        `term_grads_every (${train.term_grads_every}) and pretrain_steps (${train.pretrain_steps}) should be multiples of log_every (${train.log_every}): the gradient norms are only written on logged steps`,
      ),
    );
  }
  return out;
}

/** data.train / data.eval must be files, model.init_from a folder (paths already resolved). */
function fileIssues({ data, model }: Sections): CellIssue[] {
  const wanted: [Segment[], string | null, 'file' | 'folder'][] = [
    [['data', 'train'], data.task === null ? data.train : null, 'file'],
    [['data', 'eval'], data.task === null ? data.eval : null, 'file'],
    [['model', 'init_from'], model.init_from !== null && isCellRef(model.init_from) ? null : model.init_from, 'folder'],
  ];
  return wanted.flatMap(([path, p, kind]) => {
    if (p === null) return [];
    if (!existsSync(p)) return [error([path], `${kind} not found: ${p}`)];
    const isFolder = statSync(p).isDirectory();
    if (isFolder !== (kind === 'folder')) return [error([path], `expected a ${kind}, found a ${isFolder ? 'folder' : 'file'}: ${p}`)];
    return [];
  });
}
