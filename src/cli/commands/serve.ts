/**
 * `ava-lab serve --json`: a long-lived backend for the editor. Reads one ServeRequest per
 * stdin line and answers each with one `response` event (same id) on stdout. Requests are
 * handled one at a time, in order; models stay loaded between requests. Ends on `shutdown`
 * or when stdin closes. Nothing listens on a network port.
 */
import { createInterface } from 'node:readline';
import { AvaError, EXIT } from '../../core/errors.js';
import { initBackend } from '../../core/engine/backend.js';
import { LineRewardService } from '../../core/eval/lineRewards.js';
import type { ServeRequest } from '../../protocol/events.js';
import { AVA_LAB_VERSION } from '../../core/train/environment.js';
import type { Reporter } from '../reporter.js';

function parseRequest(line: string): ServeRequest | { id: number; error: string } | null {
  if (!line.trim()) return null;
  let o: Partial<ServeRequest> & { id?: unknown };
  try {
    o = JSON.parse(line) as typeof o;
  } catch {
    return { id: -1, error: 'request is not JSON' };
  }
  const id = typeof o.id === 'number' ? o.id : -1;
  if (o.method === 'shutdown') return { id, method: 'shutdown' };
  if (o.method === 'rewards' && typeof o.run_dir === 'string' && typeof o.data === 'string' && typeof o.line === 'number') return o as ServeRequest;
  return { id, error: `unknown or malformed request (method ${String(o.method)})` };
}

export async function serveCommand(argv: string[], rep: Reporter): Promise<number> {
  if (!argv.includes('--json')) throw new AvaError('usage', 'usage: ava-lab serve --json   (requests on stdin, responses on stdout)');
  const backend = (process.env.AVA_BACKEND as 'auto' | 'tensorflow' | 'wasm' | 'cpu' | undefined) ?? 'auto';
  const engine = await initBackend(backend, (level, msg) => rep.log(level, msg));
  rep.emit({ type: 'hello', pid: process.pid, version: AVA_LAB_VERSION, backend: engine.backend, device: engine.device, node: process.version });
  const service = new LineRewardService();
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of input) {
      const req = parseRequest(line);
      if (req === null) continue;
      if ('error' in req) {
        rep.emit({ type: 'response', id: req.id, ok: false, error: req.error });
        continue;
      }
      if (req.method === 'shutdown') {
        rep.emit({ type: 'response', id: req.id, ok: true });
        break;
      }
      try {
        const result = await service.lineRewards(req.run_dir, req.data, req.line);
        rep.emit({ type: 'response', id: req.id, ok: true, result });
      } catch (e) {
        rep.emit({ type: 'response', id: req.id, ok: false, error: e instanceof AvaError ? e.format() : `internal error: ${(e as Error).message}` });
      }
    }
  } finally {
    input.close();
    service.dispose();
  }
  return EXIT.ok;
}
