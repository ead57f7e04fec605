/**
 * The Runs view: experiments → grids (one `ava-lab run` each, newest first) → runs (grid
 * cells, then the PPO runs of the grid's win-rate stage). Read from the run directories (runIndex.ts), with the live step of the runs this
 * window watches laid over them; refreshed when status files change on disk and as progress
 * events arrive (debounced). A rescan that only moves steps redraws just the rows that changed,
 * with the same node objects (stableTree.ts), so a row action clicked meanwhile keeps its
 * target. Context values drive the stop / resume / open / reveal / delete
 * menus in package.json.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunAlarm } from '../../protocol/events.js';
import type { RunSupervisor } from '../backend/supervisor.js';
import { allRunsRoots } from '../settings.js';
import { formatAccuracy, gridStatus, scanRuns, type ExperimentEntry, type GridEntry, type RunEntry, type ShownStatus } from './runIndex.js';
import { StableTree } from './stableTree.js';
import { gridState } from '../../core/cluster/gridState.js';

export type RunsNode =
  | { kind: 'experiment'; experiment: ExperimentEntry }
  | { kind: 'grid'; grid: GridEntry; newest: boolean }
  | { kind: 'run'; run: RunEntry; grid: GridEntry };

const STATUS_ICONS: Record<ShownStatus, [string, string | undefined]> = {
  running: ['loading~spin', 'charts.blue'],
  finished: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'charts.yellow'],
  pending: ['circle-large-outline', undefined],
  missing: ['question', undefined],
  queued: ['clock', 'charts.purple'],
  cancelled: ['circle-slash', 'charts.yellow'],
};

/** How often the view asks Slurm about a submitted grid while some cell is queued or running. */
const SLURM_POLL_MS = 5000;

function statusIcon(status: ShownStatus): vscode.ThemeIcon {
  const [id, color] = STATUS_ICONS[status];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

/** `2025-01-31 14:05` from a grid's creation time (or its folder name). */
function gridLabel(grid: GridEntry): string {
  const t = new Date(grid.created);
  if (Number.isNaN(t.getTime())) return path.basename(grid.dir);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

function runDescription(run: RunEntry): string {
  const text = runStatusText(run);
  return run.alarms.length ? `⚠ ${run.alarms.map((a) => ALARM_LABEL[a.kind]).join(', ')} · ${text}` : text;
}

/** Short names of the alarms for the tree (the tooltip and the dashboard say more). */
const ALARM_LABEL: Record<RunAlarm['kind'], string> = { reward_flat: 'reward flat', weights_off_response: 'weights off response' };

function runStatusText(run: RunEntry): string {
  const text = localStatusText(run);
  if (!run.slurm?.job) return text;
  const where = run.slurm.node && run.status === 'running' ? ` on ${run.slurm.node}` : '';
  return `${text} · Slurm ${run.slurm.job}${where}`;
}

function localStatusText(run: RunEntry): string {
  if (run.ppo && run.status === 'finished') return ppoResultText(run.ppo) ?? 'finished';
  const percent = run.totalSteps > 0 ? ` (${Math.round((100 * run.step) / run.totalSteps)}%)` : '';
  switch (run.status) {
    case 'running':
      return `running · step ${run.step}/${run.totalSteps}${percent}`;
    case 'finished':
      return formatAccuracy(run.summary) ?? 'finished';
    case 'stopped':
      return `stopped at ${run.step}/${run.totalSteps}`;
    case 'queued':
      return `queued${run.slurm?.reason ? ` (${run.slurm.reason})` : ''}`;
    case 'cancelled':
      return `cancelled at ${run.step}/${run.totalSteps}`;
    case 'failed':
      return run.interrupted ? 'interrupted' : `failed: ${(run.error ?? '').split('\n')[0]}`;
    default:
      return run.status;
  }
}

/** `PPO · gold 0.523 · score 1.20`: the last iteration's mean gold (built-in tasks) and reward-model score. */
function ppoResultText(ppo: NonNullable<RunEntry['ppo']>): string | null {
  const parts = [ppo.lastGold !== undefined ? `gold ${ppo.lastGold.toFixed(3)}` : '', ppo.lastScore !== undefined ? `score ${ppo.lastScore.toFixed(2)}` : ''].filter(Boolean);
  return parts.length ? `PPO · ${parts.join(' · ')}` : null;
}

function runTooltip(run: RunEntry): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${run.variant || 'base'} · seed ${run.seed}** — ${run.status}\n\n`);
  if (run.ppo) md.appendMarkdown(`PPO of the win-rate stage's generator against the reward model of \`${run.ppo.rewardVariant}/seed-${run.seed}\` (last iteration's mean score and gold)\n\n`);
  md.appendMarkdown(`step ${run.step} / ${run.totalSteps}\n\n`);
  if (run.slurm?.job) md.appendMarkdown(`Slurm task \`${run.slurm.job}\`${run.slurm.node ? ` on \`${run.slurm.node}\`` : ''}${run.slurm.reason ? `: ${run.slurm.reason}` : ''}\n\n`);
  const acc = formatAccuracy(run.summary);
  if (acc) md.appendMarkdown(`reward accuracy: ${acc.replace(/^acc /, '')} (n = ${run.summary?.reward_acc?.n})\n\n`);
  for (const a of run.alarms) md.appendMarkdown(`$(warning) **${a.title}** (step ${a.step}). ${a.diagnosis}. Try: ${a.remedy}.\n\n`);
  if (run.error) md.appendCodeblock(run.error.split('\n').slice(0, 12).join('\n'), 'text');
  md.appendMarkdown(`\n\`${run.dir}\``);
  return md;
}

function gridDescription(grid: GridEntry): string {
  const status = gridStatus(grid);
  const done = grid.runs.filter((r) => r.status === 'finished').length;
  return `${status} · ${done}/${grid.runs.length} finished`;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<RunsNode[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private experiments: ExperimentEntry[] = [];
  private readonly tree = new StableTree<RunsNode>({
    id: nodeId,
    look: (node) => lookOf(this.getTreeItem(node)),
    children: childrenOf,
  });
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchers: vscode.FileSystemWatcher[] = [];
  private slurmTimer: ReturnType<typeof setTimeout> | undefined;
  private slurmPolling = false;

  constructor(private readonly supervisor: RunSupervisor) {
    this.disposables.push(
      supervisor.onDidChange(() => this.refreshSoon(200)),
      supervisor.onEvent((e) => e.type === 'progress' && this.refreshSoon(1000)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('avaLab.runsFolder') && this.watchRunsRoots()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.watchRunsRoots()),
    );
    this.watchRunsRoots();
  }

  /** Everything on disk, as last scanned. */
  snapshot(): ExperimentEntry[] {
    return this.experiments;
  }

  /** Rescans now. */
  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.experiments = mergeExperiments(allRunsRoots().map(scanRuns));
    this.overlayLiveProgress();
    void vscode.commands.executeCommand('setContext', 'avaLab.hasRuns', this.experiments.length > 0);
    const change = this.tree.update(this.experiments.map((experiment) => ({ kind: 'experiment', experiment })));
    if (change.all) this.changeEmitter.fire(undefined);
    else if (change.nodes.length) this.changeEmitter.fire(change.nodes);
    this.pollSlurmSoon();
  }

  /**
   * While a submitted grid has cells Slurm may still be running, asks Slurm every few seconds;
   * the answers land in grid.json, whose change rescans the view.
   */
  private pollSlurmSoon(): void {
    const open = this.experiments.flatMap((e) => e.grids).filter((g) => g.slurmOpen);
    if (!open.length || this.slurmTimer || this.slurmPolling) return;
    this.slurmTimer = setTimeout(() => {
      this.slurmTimer = undefined;
      this.slurmPolling = true;
      void Promise.all(open.map((g) => gridState(g.dir).then((s) => s.warning && this.slurmWarning(s.warning), (e: unknown) => this.slurmWarning(String(e)))))
        .finally(() => {
          this.slurmPolling = false;
          this.refresh();
        });
    }, SLURM_POLL_MS);
  }

  private lastSlurmWarning = '';
  private slurmWarning(message: string): void {
    if (message === this.lastSlurmWarning) return;
    this.lastSlurmWarning = message;
    void vscode.window.showWarningMessage(`AVA Lab: cannot ask Slurm about submitted runs: ${message}. The Runs view shows the last states seen.`);
  }

  getChildren(node?: RunsNode): RunsNode[] {
    return this.tree.children(node);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'experiment') {
      const item = new vscode.TreeItem(node.experiment.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = nodeId(node);
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.description = `${node.experiment.grids.length} grid${node.experiment.grids.length === 1 ? '' : 's'}`;
      item.contextValue = 'avaLab.experiment';
      item.tooltip = node.experiment.grids[0]?.experimentFile;
      return item;
    }
    if (node.kind === 'grid') {
      const grid = node.grid;
      const state = node.newest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
      const item = new vscode.TreeItem(gridLabel(grid), state);
      item.id = nodeId(node);
      item.resourceUri = vscode.Uri.file(grid.dir);
      item.iconPath = statusIcon(gridStatus(grid));
      item.description = gridDescription(grid);
      item.tooltip = `${grid.dir}\n${grid.experimentFile}${grid.slurmJobs ? `\nSlurm job${grid.slurmJobs.length > 1 ? 's' : ''} ${grid.slurmJobs.join(', ')}` : ''}`;
      item.contextValue = `avaLab.grid.${gridStatus(grid)}${grid.slurmJobs ? '.slurm' : ''}`;
      return item;
    }
    const run = node.run;
    const item = new vscode.TreeItem(`${run.variant || 'base'}/seed-${run.seed}`, vscode.TreeItemCollapsibleState.None);
    item.id = nodeId(node);
    item.resourceUri = vscode.Uri.file(run.dir);
    item.iconPath = run.alarms.length && run.status !== 'failed' ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : statusIcon(run.status);
    item.description = runDescription(run);
    item.tooltip = runTooltip(run);
    item.contextValue = run.ppo ? `avaLab.ppo.${run.status}` : `avaLab.run.${run.status}${run.slurm?.job ? '.slurm' : ''}`;
    item.command = { title: 'Open Run Dashboard', command: 'avaLab.openDashboard', arguments: [run.dir] };
    return item;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.slurmTimer) clearTimeout(this.slurmTimer);
    for (const d of [...this.disposables, ...this.watchers]) d.dispose();
    this.changeEmitter.dispose();
  }

  private refreshSoon(delayMs: number): void {
    this.timer ??= setTimeout(() => this.refresh(), delayMs);
  }

  private watchRunsRoots(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = allRunsRoots().map((root) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**/{grid.json,status.json,eval.json}'));
      const onChange = (): void => this.refreshSoon(300);
      w.onDidCreate(onChange);
      w.onDidChange(onChange);
      w.onDidDelete(onChange);
      return w;
    });
    this.refresh();
  }

  /** Steps from live progress events are newer than the last status.json write. */
  private overlayLiveProgress(): void {
    const live = new Map(this.supervisor.active().flatMap((l) => [...l.state.cells.values()]).map((c) => [path.resolve(c.runDir), c]));
    for (const run of this.experiments.flatMap((e) => e.grids.flatMap((g) => g.runs))) {
      const cell = live.get(path.resolve(run.dir));
      if (cell?.status === 'running' && run.status === 'running') {
        run.step = Math.max(run.step, cell.step);
        run.totalSteps = cell.total || run.totalSteps;
      }
    }
  }
}

function nodeId(node: RunsNode): string {
  if (node.kind === 'experiment') return `experiment:${node.experiment.name}`;
  if (node.kind === 'grid') return `grid:${node.grid.dir}`;
  return `run:${node.run.dir}`;
}

function childrenOf(node: RunsNode): RunsNode[] {
  if (node.kind === 'experiment') return node.experiment.grids.map((grid, i) => ({ kind: 'grid', grid, newest: i === 0 }));
  if (node.kind === 'grid') return [...node.grid.runs, ...node.grid.ppoRuns].map((run) => ({ kind: 'run', run, grid: node.grid }));
  return [];
}

/** What a row shows, as one comparable string. */
function lookOf(item: vscode.TreeItem): string {
  const icon = item.iconPath instanceof vscode.ThemeIcon ? [item.iconPath.id, item.iconPath.color?.id] : null;
  const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip;
  return JSON.stringify([item.label, item.description, item.contextValue, icon, tooltip, item.command?.arguments]);
}

/** Experiments with the same name in several runs folders become one node. */
function mergeExperiments(lists: ExperimentEntry[][]): ExperimentEntry[] {
  const byName = new Map<string, GridEntry[]>();
  for (const e of lists.flat()) byName.set(e.name, [...(byName.get(e.name) ?? []), ...e.grids]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, grids]) => ({ name, grids: grids.sort((a, b) => b.created.localeCompare(a.created)) }));
}
