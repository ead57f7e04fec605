/**
 * AVA Lab's VS Code extension: the entry point wires the features together.
 *
 *   backend/      the `ava-lab` processes: training launches (outliving the window), the
 *                 rewards server, one-shot commands; progress notification and status bar
 *   experiments/  new experiment from a template, run as a task, CodeLens, diagnostics
 *   runs/         the Runs view and its commands
 *   rewards/      JSONL hover, token highlights, hover model choice
 *   panels/       the webviews (dashboard, compare, token rewards)
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Backend } from './backend/backend.js';
import { reportLaunchEnd, RunStatusBar, showLaunchProgress } from './backend/progressUi.js';
import { RunSupervisor } from './backend/supervisor.js';
import { ExperimentCodeLensProvider, EXPERIMENT_SELECTOR } from './experiments/codeLens.js';
import { runExperiment, validateExperiment, type RunScope } from './experiments/experimentCommands.js';
import { AvaTaskProvider, markWindowClosing, TASK_TYPE, watchWindowClosing } from './experiments/runTask.js';
import { newExperiment } from './experiments/templates.js';
import { ExperimentValidator } from './experiments/validation.js';
import { registerPanels } from './panels/index.js';
import { TokenHighlighter } from './rewards/highlights.js';
import { chooseHoverModel, showTokenRewards, toggleHighlights, type TokenRewardsTarget } from './rewards/rewardCommands.js';
import { JSONL_SELECTOR, RewardHoverProvider } from './rewards/rewardHover.js';
import { RewardService } from './rewards/rewardService.js';
import { RunCommands } from './runs/runCommands.js';
import { RunsTreeProvider, type RunsNode } from './runs/runsTree.js';
import { SlurmCommands } from './runs/slurmCommands.js';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('AVA Lab', { log: true });
  const backend = new Backend(context.extensionUri, log);
  const launchesDir = path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'launches');
  const supervisor = new RunSupervisor(backend, launchesDir, log);
  const tree = new RunsTreeProvider(supervisor);
  const runs = (): ReturnType<RunsTreeProvider['snapshot']> => tree.snapshot();
  const rewards = new RewardService(backend, log, runs);
  const highlighter = new TokenHighlighter(rewards, context.workspaceState, log);
  const validator = new ExperimentValidator(backend, log);
  const runCommands = new RunCommands(supervisor, runs, () => tree.refresh());
  const slurm = new SlurmCommands(backend, log, () => tree.refresh());
  const examplesDir = vscode.Uri.joinPath(context.extensionUri, 'examples').fsPath;

  context.subscriptions.push(
    log,
    supervisor,
    tree,
    rewards,
    highlighter,
    validator,
    new RunStatusBar(supervisor),
    watchWindowClosing(),
    createRunsView(tree),
    supervisor.onDidAddLaunch((launch) => {
      showLaunchProgress(launch);
      launch.onExit.on((exit) => {
        reportLaunchEnd(launch, exit, log);
        tree.refresh();
        highlighter.refresh();
      });
    }),
    vscode.languages.registerCodeLensProvider(EXPERIMENT_SELECTOR, new ExperimentCodeLensProvider()),
    vscode.languages.registerHoverProvider(JSONL_SELECTOR, new RewardHoverProvider(rewards)),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new AvaTaskProvider(supervisor)),
  );

  const commands: Record<string, (...args: never[]) => unknown> = {
    'avaLab.newExperiment': (template?: string) => newExperiment(examplesDir, typeof template === 'string' ? template : undefined),
    'avaLab.runExperiment': (uri?: vscode.Uri, scope?: RunScope) => runExperiment(supervisor, uri, scope),
    'avaLab.validateExperiment': (uri?: vscode.Uri) => validateExperiment(validator, uri),
    'avaLab.stopRun': (target?: RunsNode | string) => runCommands.stop(target),
    'avaLab.resumeRun': (target?: RunsNode | string) => runCommands.resume(target),
    'avaLab.openDashboard': (target?: RunsNode | string) => runCommands.openDashboard(target),
    'avaLab.compareRuns': (target?: RunsNode | string | string[], selection?: RunsNode[]) => runCommands.compare(target, selection),
    'avaLab.showWinrates': (target?: RunsNode | string | vscode.Uri) => runCommands.winrates(target),
    'avaLab.computeWinrates': (uri?: vscode.Uri) => runCommands.computeWinrates(uri),
    'avaLab.revealRun': (target?: RunsNode | string) => runCommands.reveal(target),
    'avaLab.deleteRun': (target?: RunsNode) => runCommands.delete(target),
    'avaLab.refreshRuns': () => tree.refresh(),
    'avaLab.submitSlurm': (uri?: vscode.Uri) => slurm.submit(uri),
    'avaLab.cancelSlurm': (target?: RunsNode) => slurm.cancel(target),
    'avaLab.resubmitSlurm': (target?: RunsNode) => slurm.resubmit(target),
    'avaLab.showTokenRewards': (target?: TokenRewardsTarget) => showTokenRewards(rewards, runs, target),
    'avaLab.chooseHoverModel': () => chooseHoverModel(rewards, runs),
    'avaLab.toggleTokenHighlights': () => toggleHighlights(highlighter),
    'avaLab.showLog': () => log.show(),
  };
  for (const [id, handler] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, handler));

  registerPanels(context, {
    extensionUri: context.extensionUri,
    log,
    onEvent: supervisor.onEvent,
    lineRewards: (runDir, dataFile, line, token) => rewards.lineRewards(runDir, dataFile, line, token),
  });

  // Last, so the listeners above see the launches a previous window left running.
  supervisor.restore();
  log.info(`AVA Lab activated (${vscode.workspace.isTrusted ? 'trusted' : 'restricted'} workspace)`);
}

/** The Runs view; in Restricted Mode it says why runs cannot be started from it. */
function createRunsView(tree: RunsTreeProvider): vscode.Disposable {
  const view = vscode.window.createTreeView('avaLab.runs', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
  view.message = vscode.workspace.isTrusted ? undefined : 'Restricted Mode: existing runs are shown; training and model loading need a trusted workspace.';
  return vscode.Disposable.from(
    view,
    vscode.workspace.onDidGrantWorkspaceTrust(() => (view.message = undefined)),
  );
}

export function deactivate(): void {
  markWindowClosing();
}
