/**
 * The order in which `ava-lab run` trains a grid's cells: at most `limit` at a time, each once
 * the cells it depends on (same seed: `model.init_from: cell:<variant>`, `data.afd`) have
 * finished. A cell whose dependency failed or stopped never starts (`blocked`); the others go on.
 */
import type { RunStatus } from '../../protocol/events.js';

export interface ScheduleOptions<C> {
  depsOf: (cell: C) => readonly C[];
  /** Status of dependencies outside `cells` (finished before this command). */
  done: ReadonlyMap<C, RunStatus>;
  limit: number;
  run: (cell: C) => Promise<RunStatus>;
  blocked: (cell: C, dependency: C, status: RunStatus) => void;
  /** Once aborted, no further cell starts; running ones finish (or stop) by themselves. */
  signal: AbortSignal;
}

/** Each cell's final status; cells never started because of `signal` are absent. */
export async function schedule<C>(cells: readonly C[], o: ScheduleOptions<C>): Promise<Map<C, RunStatus>> {
  const statuses = new Map<C, RunStatus>();
  const waiting = [...cells];
  const running = new Map<C, Promise<void>>();
  const statusOf = (c: C) => statuses.get(c) ?? o.done.get(c);
  while (waiting.length || running.size) {
    let blockedSome = false;
    for (let i = 0; i < waiting.length && running.size < o.limit && !o.signal.aborted; ) {
      const cell = waiting[i];
      const deps = o.depsOf(cell);
      const failed = deps.find((d) => statusOf(d) !== undefined && statusOf(d) !== 'finished');
      if (failed) {
        waiting.splice(i, 1);
        statuses.set(cell, 'failed');
        o.blocked(cell, failed, statusOf(failed)!);
        blockedSome = true;
      } else if (deps.every((d) => statusOf(d) === 'finished')) {
        waiting.splice(i, 1);
        const started = o.run(cell).then((status) => {
          statuses.set(cell, status);
          running.delete(cell);
        });
        running.set(cell, started);
      } else i++;
    }
    // A cell blocked late in the pass may block one seen earlier in it: look again.
    if (running.size === 0 && blockedSome) continue;
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return statuses;
}
