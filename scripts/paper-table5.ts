/**
 * The README's Table 5 (AVA-d used directly as a policy against SFT, DPO w/ AfD and AVA-p w/ AfD):
 * the paper's numbers on Alpaca and Math (spec §10, as printed) beside what
 * `ava-lab run examples/paper/afd-<task>.ava.yaml` measured on the lab's tasks (its
 * `<grid>/winrates/winrates.json`), and whether the paper's ordering holds: on both of its tasks
 * together AVA-d wins more often than it loses against each opponent.
 *
 *   npx tsx scripts/paper-table5.ts harmless=<grid> helpful=<grid> summary=<grid>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WinratesReport } from '../src/core/winrates/report.js';
import { fmtP, fmtWtl, ordering, type WTL } from './paper-common.js';

/** spec §10, Table 5: AVA-d against each opponent on Alpaca and on Math (win, tie, lose %). */
const PAPER: Record<string, { label: string; alpaca: WTL; math: WTL }> = {
  'policy:ava-d vs policy:sft': { label: 'SFT', alpaca: [58.1, 7.2, 34.7], math: [47.0, 9.7, 43.3] },
  'policy:ava-d vs policy:dpo w/ afd': { label: 'DPO w/ AfD', alpaca: [57.2, 6.9, 35.9], math: [44.3, 11.4, 44.3] },
  'policy:ava-d vs policy:ava-p w/ afd': { label: 'AVA-p w/ AfD', alpaca: [56.5, 7.1, 36.4], math: [45.4, 11.4, 43.1] },
};

const lines = ['| task | AVA-d vs | paper Alpaca | paper Math | lab win / tie / lose | lab p (sign test) | paper\'s ordering |', '|---|---|---|---|---|---|---|'];
for (const arg of process.argv.slice(2)) {
  const [task, grid] = arg.split('=');
  const report = JSON.parse(readFileSync(join(grid, 'winrates', 'winrates.json'), 'utf8')) as WinratesReport;
  for (const [text, paper] of Object.entries(PAPER)) {
    const c = report.comparisons.find((x) => x.text === text);
    if (!c) continue;
    const lab: WTL = [100 * c.mean.win, 100 * c.mean.tie, 100 * c.mean.lose];
    const paperSign = Math.sign(paper.alpaca[0] - paper.alpaca[2] + paper.math[0] - paper.math[2]);
    lines.push(`| ${task} | ${paper.label} | ${fmtWtl(paper.alpaca)} | ${fmtWtl(paper.math)} | ${fmtWtl(lab)} | ${fmtP(c.pooled.p)} | ${ordering(paperSign, lab, c.pooled.p)} |`);
  }
}
console.log(lines.join('\n'));
