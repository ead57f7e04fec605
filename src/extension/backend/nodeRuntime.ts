/**
 * Which Node.js runs the backend. A real `node` is preferred (the native TensorFlow backend
 * can only load there); the editor's own runtime, run as plain Node through
 * ELECTRON_RUN_AS_NODE, is the fallback when no `node` can be found. No `vscode` import.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export interface NodeRuntime {
  /** Executable to spawn. */
  command: string;
  /** Extra environment for the child (ELECTRON_RUN_AS_NODE for the editor's runtime). */
  env: Record<string, string>;
  /** Where it came from, for the log: `setting`, `PATH` or `editor`. */
  source: 'setting' | 'PATH' | 'editor';
}

export class NodeNotFoundError extends Error {
  constructor(readonly configured: string) {
    super(`The node executable set in "avaLab.nodePath" was not found or is not executable: ${configured}`);
    this.name = 'NodeNotFoundError';
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `node` (or `node.exe`, or another program) on a PATH string, or null. */
export function findOnPath(pathVariable: string | undefined, platform: NodeJS.Platform = process.platform, program = 'node'): string | null {
  const names = platform === 'win32' ? [`${program}.exe`, `${program}.cmd`] : [program];
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

/**
 * `avaLab.nodePath` when set (it must exist: a wrong setting is an error, not a silent
 * fallback), else `node` on PATH, else the editor's runtime (`execPath`).
 */
export function resolveNodeRuntime(
  nodePathSetting: string,
  env: NodeJS.ProcessEnv = process.env,
  execPath: string = process.execPath,
): NodeRuntime {
  const configured = nodePathSetting.trim();
  if (configured) {
    const onPath = isAbsolute(configured) ? null : findOnPath(env.PATH);
    const command = isAbsolute(configured) ? configured : configured === 'node' ? onPath : null;
    if (!command || !isExecutableFile(command)) throw new NodeNotFoundError(configured);
    return { command, env: {}, source: 'setting' };
  }
  const onPath = findOnPath(env.PATH);
  if (onPath) return { command: onPath, env: {}, source: 'PATH' };
  return { command: execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, source: 'editor' };
}
