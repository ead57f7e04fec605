/**
 * Where the CLI's output goes. With `--json`, stdout carries only protocol lines (one event
 * each) and everything human goes to stderr; otherwise events become log lines and a
 * progress bar on a TTY.
 */
import { encodeEvent, type EventBody } from '../protocol/events.js';
import { alarmText } from '../core/train/alarms.js';

export interface Reporter {
  readonly json: boolean;
  emit(event: EventBody): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** Final human output (tables); ignored in --json mode, where events carry the same data. */
  print(text: string): void;
  close(): void;
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4);
}

export function createReporter(opts: { json: boolean; verbose?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Reporter {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const tty = !opts.json && err.isTTY === true;
  const latest = new Map<string, { label: string; step: number; total: number; loss?: number; acc?: number }>();
  const labels = new Map<string, string>();
  let barShown = false;

  const clearBar = () => {
    if (barShown) {
      err.write('\r\x1b[K');
      barShown = false;
    }
  };
  const drawBar = () => {
    if (!tty || latest.size === 0) return;
    const parts = [...latest.values()].map((s) => `${s.label} ${bar(s.step / Math.max(1, s.total), 16)} ${s.step}/${s.total} loss ${fmt(s.loss)}${s.acc !== undefined ? ` acc ${fmt(s.acc)}` : ''}`);
    err.write('\r\x1b[K' + parts.join('  |  ').slice(0, (err.columns ?? 120) - 1));
    barShown = true;
  };
  const line = (text: string) => {
    clearBar();
    err.write(text + '\n');
    drawBar();
  };

  return {
    json: opts.json,
    emit(event) {
      if (opts.json) {
        out.write(encodeEvent(event) + '\n');
        return;
      }
      switch (event.type) {
        case 'run_start':
          labels.set(event.run_dir, `${event.variant || 'base'}/s${event.seed}`);
          latest.set(event.run_dir, { label: labels.get(event.run_dir)!, step: event.resumed_from ?? 0, total: event.total_steps });
          line(`▶ ${labels.get(event.run_dir)}  ${event.run_dir}${event.resumed_from ? `  (resumed at step ${event.resumed_from})` : ''}`);
          break;
        case 'progress': {
          const s = latest.get(event.run_dir);
          if (s) {
            s.step = event.step;
            s.total = event.total;
            drawBar();
          }
          break;
        }
        case 'metrics': {
          const s = latest.get(event.run_dir);
          const v = event.record.values;
          if (s && v.loss !== undefined) s.loss = v.loss;
          if (s && v.reward_acc !== undefined) s.acc = v.reward_acc;
          if (!tty && event.record.phase !== 'eval') {
            const keys = Object.keys(v).filter((k) => k !== 'lr');
            line(`  ${labels.get(event.run_dir) ?? ''} ${event.record.phase} ${event.record.step}: ${keys.map((k) => `${k} ${fmt(v[k])}`).join('  ')}`);
          }
          drawBar();
          break;
        }
        case 'eval':
          if (event.summary.reward_acc) line(`  ${labels.get(event.run_dir) ?? ''} eval @${event.summary.step}: reward accuracy ${(event.summary.reward_acc.value * 100).toFixed(2)}% (n=${event.summary.reward_acc.n})`);
          break;
        case 'alarm':
          line(`⚠ ${labels.get(event.run_dir) ?? event.run_dir}: ${alarmText(event.alarm)}`);
          break;
        case 'run_end':
          latest.delete(event.run_dir);
          line(`${event.status === 'finished' ? '✔' : event.status === 'stopped' ? '■' : '✖'} ${labels.get(event.run_dir) ?? event.run_dir} ${event.status}${event.error ? `: ${event.error}` : ''}`);
          break;
        case 'log':
          if (event.level !== 'debug' || opts.verbose) line(`${event.level === 'info' ? '' : event.level + ': '}${event.message}`);
          break;
        case 'error':
          line(`error: ${event.message}`);
          break;
        default:
          break;
      }
    },
    log(level, message) {
      this.emit({ type: 'log', level, message });
    },
    print(text) {
      if (!opts.json) {
        clearBar();
        out.write(text.endsWith('\n') ? text : text + '\n');
      }
    },
    close() {
      clearBar();
    },
  };
}
