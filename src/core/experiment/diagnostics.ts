/** Diagnostics as text, and as the AvaError that stops a command. */
import type { Diagnostic } from '../../protocol/events.js';
import { AvaError } from '../errors.js';

/** `file:line:column: key: message` (the AvaError format), with a `warning:` tag for warnings. */
export function formatDiagnostic(d: Diagnostic): string {
  const tag = d.severity === 'warning' ? 'warning: ' : '';
  return [`${d.file}:${d.line}:${d.column}`, d.key, tag + d.message].filter((s) => s !== '').join(': ');
}

/** AvaError('config') naming the first error and its place; every error is a line of `details`. */
export function configError(errors: Diagnostic[], prefix = ''): AvaError {
  const [first] = errors;
  const where = { file: first.file, line: first.line, column: first.column, key: first.key || undefined };
  return new AvaError('config', prefix + first.message, where, errors.map(formatDiagnostic));
}
