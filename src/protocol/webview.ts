/**
 * Messages between the extension host and the AVA Lab webview panels.
 *
 * One discriminated union per direction (`type` field), imported by both sides: the panel
 * classes in src/extension/panels and the browser bundle in webview/. Pure types plus the
 * guards that check what arrives from the other side; no Node, no `vscode` imports.
 *
 * Life cycle of every panel: the webview posts `ready` each time its page loads (first open,
 * shown again after being hidden, window reload); the host answers with a full snapshot
 * (a `…/init` message) and then posts increments. Increments that arrive before a snapshot are ignored
 * by the webview; the snapshot always supersedes them.
 */
import type { EvalSummary, LineRewards, MetricRecord, Phase, RunAlarm, RunStatus } from './events.js';
import type { WinratesReport } from '../core/winrates/report.js';
import type { VerdictRow } from '../core/winrates/run.js';

export type { VerdictRow, WinratesReport };

export type PanelKind = 'dashboard' | 'compare' | 'tokenRewards' | 'winrates';

/** `viewType` of each panel (the keys of its WebviewPanelSerializer). */
export const PANEL_VIEW_TYPES: Record<PanelKind, string> = {
  dashboard: 'avaLab.dashboard',
  compare: 'avaLab.compare',
  tokenRewards: 'avaLab.tokenRewards',
  winrates: 'avaLab.winrates',
};

/** Diverging colour scales offered for per-token rewards (all colour-blind safe). */
export type ColorSchemeName = 'blue-orange' | 'purple-orange' | 'blue-red';

/** What a panel was opened on; saved in the webview state so a reload can reopen it. */
export type PanelArgs =
  | { kind: 'dashboard'; runDir: string }
  | { kind: 'compare'; runDirs: string[] }
  | { kind: 'tokenRewards'; runDir: string; dataFile?: string; line?: number }
  | { kind: 'winrates'; gridDir: string };

/** One run as the panels show it: identity, status and progress. */
export interface RunSummary {
  runDir: string;
  experiment: string;
  /** Ablation variant ('base' when the experiment has none). */
  variant: string;
  seed: number | null;
  status: RunStatus;
  /** status.json says `running` but its process is gone: the run was killed. */
  interrupted: boolean;
  phase?: Phase;
  step: number;
  totalSteps: number;
  /** Seconds since the run started, from its last metric record. */
  elapsed?: number;
  error?: string;
  /** Collapse alarms raised while training (status.json). */
  alarms: RunAlarm[];
}

/** One run inside the Compare panel. */
export interface CompareRun {
  run: RunSummary;
  /** eval.json (final evaluation), when present. */
  final: EvalSummary | null;
  /** Periodic evaluations (evals.jsonl). */
  evals: EvalSummary[];
  /** The run's metric records, downsampled per series for overlaid curves. */
  records: MetricRecord[];
  /** The resolved config.yaml as a plain object (null when missing or unreadable). */
  config: Record<string, unknown> | null;
  /** Per evaluation pair of the final evaluation, whether it was ranked right (eval_pairs.jsonl), for McNemar's test. */
  pairCorrect?: boolean[];
}

/** Where "open line" in the token-reward panel should jump. */
export type LineTarget =
  /** The eval data file the dumped samples come from (line = LineRewards.line). */
  | 'evalData'
  /** The panel's browsable data file (line = LineRewards.line). */
  | 'dataFile'
  /** The run's token_rewards.jsonl itself (line = 1-based row), when no data file is known. */
  | 'dump';

export type ExportFormat = 'csv' | 'png' | 'md' | 'tex';

// ── host → webview ──────────────────────────────────────────────────────────

export interface DashboardInit {
  type: 'dashboard/init';
  args: Extract<PanelArgs, { kind: 'dashboard' }>;
  run: RunSummary;
  records: MetricRecord[];
  evals: EvalSummary[];
  final: EvalSummary | null;
}

export interface CompareInit {
  type: 'compare/init';
  args: Extract<PanelArgs, { kind: 'compare' }>;
  runs: CompareRun[];
  /** Paths that were asked for but hold no run (shown as a warning). */
  missing: string[];
}

export interface TokenRewardsInit {
  type: 'tokens/init';
  args: Extract<PanelArgs, { kind: 'tokenRewards' }>;
  run: RunSummary;
  /** token_rewards.jsonl of the run (the first N eval samples). */
  dump: LineRewards[];
  /** The eval data file the dump's lines refer to, when it exists on disk. */
  evalDataFile: string | null;
  /** The data file whose lines can be browsed on demand (args.dataFile or evalDataFile). */
  dataFile: string | null;
  colorScheme: ColorSchemeName;
  /** Why the dump could not be read, if it could not. */
  dumpError?: string;
}

export interface WinratesInit {
  type: 'winrates/init';
  args: Extract<PanelArgs, { kind: 'winrates' }>;
  /** `<grid>/winrates/winrates.json`, or null when the grid has none yet. */
  report: WinratesReport | null;
  error?: string;
}

export type HostToWebview =
  | DashboardInit
  | { type: 'dashboard/records'; records: MetricRecord[] }
  | { type: 'dashboard/run'; run: RunSummary }
  | { type: 'dashboard/eval'; summary: EvalSummary; final: boolean }
  | CompareInit
  | { type: 'compare/run'; run: CompareRun }
  | TokenRewardsInit
  | { type: 'tokens/line'; line: number; result?: LineRewards; error?: string }
  /** Show this line of the data file (the panel was asked for it again, e.g. from a hover). */
  | { type: 'tokens/goto'; line: number }
  | { type: 'colorScheme'; scheme: ColorSchemeName }
  | WinratesInit
  /** The judged prompts of one comparison and seed (`<grid>/winrates/seed-<n>/verdicts.jsonl`). */
  | { type: 'winrates/verdicts'; comparison: string; seed: number; rows: VerdictRow[]; error?: string };

// ── webview → host ──────────────────────────────────────────────────────────

export type WebviewToHost =
  | { type: 'ready' }
  /** Save exported content; `data` is text, or a `data:image/png;base64,…` URL for png. */
  | { type: 'export'; format: ExportFormat; fileName: string; data: string }
  | { type: 'copy'; text: string }
  | { type: 'openLine'; target: LineTarget; line: number }
  | { type: 'requestLine'; line: number }
  | { type: 'openDashboard'; runDir: string }
  | { type: 'openTokenRewards'; runDir: string }
  | { type: 'requestVerdicts'; comparison: string; seed: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type HostMessageType = HostToWebview['type'];
export type WebviewMessageType = WebviewToHost['type'];

const HOST_TYPES: ReadonlySet<string> = new Set<HostMessageType>([
  'dashboard/init', 'dashboard/records', 'dashboard/run', 'dashboard/eval',
  'compare/init', 'compare/run', 'tokens/init', 'tokens/line', 'tokens/goto', 'colorScheme',
  'winrates/init', 'winrates/verdicts',
]);

const EXPORT_FORMATS: ReadonlySet<string> = new Set<ExportFormat>(['csv', 'png', 'md', 'tex']);
const LINE_TARGETS: ReadonlySet<string> = new Set<LineTarget>(['evalData', 'dataFile', 'dump']);
const LOG_LEVELS: ReadonlySet<string> = new Set(['info', 'warn', 'error']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isLineNumber = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** Does a message from the host have a known `type`? (The host is trusted for the payload.) */
export function isHostMessage(x: unknown): x is HostToWebview {
  return isRecord(x) && isString(x.type) && HOST_TYPES.has(x.type);
}

/**
 * Is a message from the webview well-formed? The host checks every field before acting on
 * it: the webview runs page code and must not make the host open or write arbitrary paths.
 */
export function isWebviewMessage(x: unknown): x is WebviewToHost {
  if (!isRecord(x) || !isString(x.type)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'export':
      return isString(x.format) && EXPORT_FORMATS.has(x.format) && isString(x.fileName) && isString(x.data);
    case 'copy':
      return isString(x.text);
    case 'openLine':
      return isString(x.target) && LINE_TARGETS.has(x.target) && isLineNumber(x.line);
    case 'requestLine':
      return isLineNumber(x.line);
    case 'openDashboard':
    case 'openTokenRewards':
      return isString(x.runDir);
    case 'requestVerdicts':
      return isString(x.comparison) && isLineNumber(x.seed);
    case 'log':
      return isString(x.level) && LOG_LEVELS.has(x.level) && isString(x.message);
    default:
      return false;
  }
}

/** Is this saved webview state a PanelArgs of the given kind (used when restoring panels)? */
export function isPanelArgs(x: unknown, kind: PanelKind): x is PanelArgs {
  if (!isRecord(x) || x.kind !== kind) return false;
  switch (kind) {
    case 'dashboard':
      return isString(x.runDir);
    case 'compare':
      return Array.isArray(x.runDirs) && x.runDirs.every(isString);
    case 'tokenRewards':
      return isString(x.runDir) && (x.dataFile === undefined || isString(x.dataFile)) && (x.line === undefined || isLineNumber(x.line));
    case 'winrates':
      return isString(x.gridDir);
  }
}
