/**
 * Judges for win / tie / lose (spec §7): each takes (prompt, answer A, answer B) items and returns
 * one verdict per item from A's side.
 *
 * - `goldJudge`: the built-in tasks' exact gold reward (TaskDefinition.goldOf), tie when the two
 *   golds differ by at most `tieMargin`.
 * - `scoreJudge`: any scorer of (prompt, responses), e.g. a trained reward model's R(y).
 * - `commandJudge`: the user's own program (a script, an LLM judge). It gets JSON lines on stdin,
 *     {"id": "<item>:<order>", "prompt": …, "first": …, "second": …}
 *   one per item and presentation order (order `ab` shows A first, `ba` shows B first, when
 *   `swap` is on), and must print one JSON line per request on stdout,
 *     {"id": "<the same id>", "preferred": "first" | "second" | "tie"}
 *   in any order. The two orders become one verdict by the tie rule (./winrate.ts). A command
 *   that exits non-zero, prints something that is not such a line, leaves a request
 *   unanswered or runs past `timeoutMs` is an error that says which.
 */
import { spawn } from 'node:child_process';
import { AvaError } from '../errors.js';
import type { TaskDefinition } from '../tasks/task.js';
import { round6 } from '../tasks/random.js';
import { combineOrders, verdictFromScores, type Preference, type TieRule, type Verdict } from './winrate.js';

export interface JudgeItem {
  prompt: string;
  a: string;
  b: string;
}

export interface Judged {
  verdict: Verdict;
  /** Scores of A and B (gold and score judges). */
  scores?: [number, number];
  /** The preference of each presentation order, in A/B terms (command judge). */
  orders?: Preference[];
}

export interface Judge {
  /** How reports name it: `gold`, `rm:<run>`, `command:<text>`. */
  readonly name: string;
  judge(items: readonly JudgeItem[], signal?: AbortSignal): Promise<Judged[]>;
}

/** The words of a response text, as the built-in tasks' gold reads them. */
export function responseWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** Gold reward of a response to a built-in task prompt (sum of its per-word golds, 6 decimals). */
export function goldReward(task: TaskDefinition, prompt: string, response: string): number {
  const gold = task.goldOf(prompt);
  if (!gold) throw new AvaError('data', `the gold judge needs prompts of the built-in task "${task.name}", and "${prompt}" is not one`, { key: 'judge' });
  return round6(gold(responseWords(response)).reduce((s, x) => s + x, 0));
}

export function goldJudge(task: TaskDefinition, tieMargin = 0): Judge {
  return scoreJudge(`gold:${task.name}`, async (prompt, responses) => responses.map((r) => goldReward(task, prompt, r)), tieMargin);
}

export type Scorer = (prompt: string, responses: readonly string[]) => Promise<number[]>;

export function scoreJudge(name: string, score: Scorer, tieMargin = 0): Judge {
  return {
    name,
    async judge(items, signal) {
      const out: Judged[] = [];
      for (const item of items) {
        if (signal?.aborted) throw new AvaError('usage', 'judging was cancelled');
        const [a, b] = await score(item.prompt, [item.a, item.b]);
        out.push({ verdict: verdictFromScores(a, b, tieMargin), scores: [a, b] });
      }
      return out;
    },
  };
}

export interface CommandJudgeOptions {
  /** Show each item in both orders (spec §8 #29 `judge_swap_positions`). */
  swap: boolean;
  tieRule: TieRule;
  timeoutMs: number;
  cwd?: string;
}

const ANSWERS: Record<string, 'first' | 'second' | 'tie'> = { first: 'first', second: 'second', tie: 'tie' };

export function commandJudge(command: string, o: CommandJudgeOptions): Judge {
  const name = `command:${command}`;
  return {
    name,
    async judge(items, signal) {
      const orders = o.swap ? (['ab', 'ba'] as const) : (['ab'] as const);
      const requests = items.flatMap((item, i) =>
        orders.map((order) => ({ id: `${i}:${order}`, prompt: item.prompt, first: order === 'ab' ? item.a : item.b, second: order === 'ab' ? item.b : item.a })),
      );
      const stdout = await runJudgeCommand(command, requests.map((r) => JSON.stringify(r)).join('\n') + '\n', o, signal);
      const answers = parseJudgeOutput(command, stdout, new Set(requests.map((r) => r.id)));
      return items.map((_, i) => {
        const prefs = orders.map((order): Preference => {
          const said = answers.get(`${i}:${order}`)!;
          if (said === 'tie') return 'tie';
          const aFirst = order === 'ab';
          return (said === 'first') === aFirst ? 'a' : 'b';
        });
        return { verdict: combineOrders(prefs, o.tieRule), orders: prefs };
      });
    },
  };
}

function judgeError(command: string, what: string, details?: string[]): AvaError {
  return new AvaError('config', `judge command \`${command}\` ${what}`, { key: 'judge.command' }, details);
}

/** Parses the judge's stdout: one verdict per request id, every id answered exactly once. */
export function parseJudgeOutput(command: string, stdout: string, ids: ReadonlySet<string>): Map<string, 'first' | 'second' | 'tie'> {
  const answers = new Map<string, 'first' | 'second' | 'tie'>();
  const lines = stdout.split('\n');
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `stdout line ${k + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw judgeError(command, `printed ${where} that is not JSON: ${line.slice(0, 120)}`);
    }
    const { id, preferred } = (row ?? {}) as { id?: unknown; preferred?: unknown };
    if (typeof id !== 'string' || !ids.has(id)) throw judgeError(command, `answered an unknown id on ${where}: ${JSON.stringify(id)}`);
    if (typeof preferred !== 'string' || !Object.hasOwn(ANSWERS, preferred)) {
      throw judgeError(command, `gave ${JSON.stringify(preferred)} on ${where}; "preferred" must be "first", "second" or "tie"`);
    }
    if (answers.has(id)) throw judgeError(command, `answered id ${id} twice (${where})`);
    answers.set(id, ANSWERS[preferred]);
  });
  const missing = [...ids].filter((id) => !answers.has(id));
  if (missing.length > 0) throw judgeError(command, `gave no verdict for ${missing.length} of ${ids.size} requests (first: ${missing[0]})`);
  return answers;
}

function runJudgeCommand(command: string, input: string, o: CommandJudgeOptions, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const finish = (e: Error | null, value = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(value);
    };
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      finish(judgeError(command, `did not finish within ${o.timeoutMs / 1000} s (timeout); it had printed ${Buffer.concat(out).toString('utf8').split('\n').filter((l) => l.trim()).length} line(s)`));
    }, o.timeoutMs);
    const onAbort = () => {
      killGroup();
      finish(new AvaError('usage', 'judging was cancelled'));
    };
    signal?.addEventListener('abort', onAbort);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => finish(judgeError(command, `could not start: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) return finish(null, Buffer.concat(out).toString('utf8'));
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-5);
      finish(judgeError(command, `exited with ${code === null ? `signal ${sig}` : `code ${code}`}`, tail.filter((l) => l)));
    });
    child.stdin.on('error', () => {
      // a judge that exits without reading its input: reported by 'close'
    });
    child.stdin.end(input);
  });
}
