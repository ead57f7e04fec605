/**
 * The README's "paper vs lab" win-rate tables: for each task, the paper's Tables 2 and 3 (spec §10,
 * numbers as printed) beside what `ava-lab run examples/paper/winrates-<task>.ava.yaml` measured,
 * and Table 4 beside examples/paper/direct-<task>.ava.yaml's (a grid shows the rows it has)
 * (its `<grid>/winrates/winrates.json`), and whether the paper's ordering (AVA-p's system wins
 * more often than it loses) holds, for the lab's AVA-p (`robust`) and, where the grid has it,
 * for the paper's literal reading (`ava-p paper`).
 *
 *   npx tsx scripts/paper-winrates.ts harmless=<grid> helpful=<grid> summary=<grid>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WinratesReport } from '../src/core/winrates/report.js';
import { fmtP, fmtWtl, ordering, type WTL } from './paper-common.js';

/** spec §10, Tables 2, 3 and 4: AVA-p's system against each opponent (win, tie, lose %). */
const PAPER: Record<string, Record<string, WTL>> = {
  harmless: { 'policy:ava-p vs policy:sft': [37.1, 28.9, 34.0], 'policy:ava-p vs policy:dpo': [13.7, 73.8, 12.5], 'bon:ava-p vs stochastic': [43.0, 17.4, 39.6], 'bon:ava-p vs bon:bt': [28.8, 42.6, 28.6], 'bon:ava-p vs bon:pt': [35.6, 31.9, 32.5], 'ppo:ava-p vs stochastic': [42.5, 23.4, 34.1], 'ppo:ava-p vs ppo:bt': [9.2, 81.7, 9.1], 'ppo:ava-p vs ppo:pt': [9.0, 83.2, 7.8] },
  helpful: { 'policy:ava-p vs policy:sft': [22.5, 59.6, 17.9], 'policy:ava-p vs policy:dpo': [14.4, 72.4, 13.2], 'bon:ava-p vs stochastic': [26.1, 50.4, 23.5], 'bon:ava-p vs bon:bt': [13.2, 76.1, 10.7], 'bon:ava-p vs bon:pt': [19.3, 62.3, 18.4], 'ppo:ava-p vs stochastic': [23.3, 58.8, 18.0], 'ppo:ava-p vs ppo:bt': [1.8, 97.2, 1.0], 'ppo:ava-p vs ppo:pt': [2.6, 95.8, 1.6] },
  summary: { 'policy:ava-p vs policy:sft': [59.0, 7.3, 33.7], 'policy:ava-p vs policy:dpo': [44.9, 11.0, 44.1], 'bon:ava-p vs stochastic': [60.2, 0.8, 39.0], 'bon:ava-p vs bon:bt': [34.6, 34.5, 30.9], 'bon:ava-p vs bon:pt': [43.6, 25.8, 30.6], 'ppo:ava-p vs stochastic': [73.8, 1.4, 24.7], 'ppo:ava-p vs ppo:bt': [18.5, 66.3, 15.2], 'ppo:ava-p vs ppo:pt': [33.9, 34.6, 31.5] },
};
const OPPONENT: Record<string, string> = {
  'policy:ava-p vs policy:sft': 'Direct: SFT',
  'policy:ava-p vs policy:dpo': 'Direct: DPO',
  'bon:ava-p vs stochastic': 'BoN: Stochastic',
  'bon:ava-p vs bon:bt': 'BoN: BoN w/ Bradley-Terry',
  'bon:ava-p vs bon:pt': 'BoN: BoN w/ Pref-Trans',
  'ppo:ava-p vs stochastic': 'PPO: SFT (one SFT sample)',
  'ppo:ava-p vs ppo:bt': 'PPO: PPO w/ Bradley-Terry',
  'ppo:ava-p vs ppo:pt': 'PPO: PPO w/ Pref-Trans',
};

const lines = ['| task | AVA-p vs | paper win / tie / lose | lab win / tie / lose | lab p (sign test) | paper\'s ordering |', '|---|---|---|---|---|---|'];
for (const arg of process.argv.slice(2)) {
  const [task, grid] = arg.split('=');
  const report = JSON.parse(readFileSync(join(grid, 'winrates', 'winrates.json'), 'utf8')) as WinratesReport;
  const rows = Object.entries(PAPER[task]).flatMap(([text, paper]) => [
    { text, label: OPPONENT[text], paper },
    // The same comparison with AVA-p under the paper's literal reading (variant `ava-p paper`).
    { text: text.replace(/^(bon|ppo|policy):ava-p /, '$1:ava-p paper '), label: `${OPPONENT[text]} (AVA-p literal)`, paper },
  ]);
  for (const { text, label, paper } of rows) {
    const c = report.comparisons.find((x) => x.text === text);
    if (!c) continue;
    const lab: WTL = [100 * c.mean.win, 100 * c.mean.tie, 100 * c.mean.lose];
    lines.push(`| ${task} | ${label} | ${fmtWtl(paper)} | ${fmtWtl(lab)} | ${fmtP(c.pooled.p)} | ${ordering(Math.sign(paper[0] - paper[2]), lab, c.pooled.p)} |`);
  }
}
console.log(lines.join('\n'));
