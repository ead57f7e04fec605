/**
 * The README's Table 1 comparison: the paper's reward accuracies (spec §10, the GPT-2 columns, as
 * printed) beside the methods × tasks table `ava-lab report` builds from a run of
 * examples/paper/table1.ava.yaml, and, per method and task, whether the method sits on the same
 * side of Bradley-Terry as in the paper (and whether the lab's difference is significant). The
 * `AVA-p paper` row (the lab's literal reading, `recipe: paper`) is set beside the paper's AVA-p.
 *
 *   npx tsx scripts/paper-table1.ts <grid_dir>
 */
import { resolve } from 'node:path';
import { readGridCells } from '../src/cli/commands/report.js';
import { methodTaskTable } from '../src/core/eval/methodTable.js';

/** spec §10 Table 1, GPT-2 backbone: harmless, helpful, summary. */
const PAPER: Record<string, [number, number, number]> = {
  BT: [70.02, 69.39, 59.27],
  PT: [70.26, 71.37, 59.31],
  'AVA-p': [70.27, 72.37, 61.79],
  'w/o rwt': [70.06, 69.81, 60.55],
  'w/o neg': [70.54, 69.75, 62.06],
  'w/o irl': [69.48, 68.87, 58.96],
  'w/o cer': [70.06, 69.81, 60.55],
  'w/o ptq': [68.67, 68.51, 61.25],
  'AVA-d': [70.54, 69.75, 62.06],
};
/** The lab's literal reading (`recipe: paper`) stands beside the paper's own AVA-p numbers. */
PAPER['AVA-p paper'] = PAPER['AVA-p'];
const TASKS = ['harmless', 'helpful', 'summary'];

const table = methodTaskTable(readGridCells(resolve(process.argv[2])), 'bt');
if (!table) throw new Error('the grid has no methods × tasks table');
const col = (task: string) => table.tasks.indexOf(task);
const bt = table.methods.find((m) => m.name === table.baseline)!;
const head = ['method', ...TASKS.flatMap((t) => [`${t} paper`, `${t} lab`]), 'side of BT as in the paper'];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const m of table.methods) {
  const paper = PAPER[m.name];
  const cells: string[] = [];
  const sides: string[] = [];
  TASKS.forEach((task, t) => {
    const c = m.cells[col(task)];
    const lab = c ? `${(100 * c.mean).toFixed(2)} ± ${(100 * c.std).toFixed(2)}${c.vsBaseline && c.vsBaseline.p < 0.05 ? ' †' : ''}` : '—';
    cells.push(paper ? paper[t].toFixed(2) : '—', lab);
    const base = bt.cells[col(task)];
    if (!paper || !c || !base || m.name === table.baseline) return;
    const paperSide = Math.sign(paper[t] - PAPER.BT[t]);
    const labSide = Math.sign(c.mean - base.mean);
    const sig = c.vsBaseline !== null && c.vsBaseline.p < 0.05;
    sides.push(`${task}: ${labSide === paperSide ? (sig ? 'yes' : 'yes (n.s.)') : sig ? 'no' : 'no (n.s.)'}`);
  });
  lines.push(`| ${m.name}${m.name === table.baseline ? ' (baseline)' : ''} | ${cells.join(' | ')} | ${sides.join(', ') || '—'} |`);
}
console.log(lines.join('\n'));
