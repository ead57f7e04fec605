/**
 * Errors meant for the user: one clear message, with the place it concerns when known.
 * The CLI prints `file:line:column: key: message` and exits with `exitCode`; anything that
 * is not an AvaError is a bug and is reported as such.
 */
export interface ErrorLocation {
  file?: string;
  /** 1-based. */
  line?: number;
  column?: number;
  /** Dotted config key (`objective.cer_form`) or JSONL field. */
  key?: string;
}

export type ErrorCode =
  | 'config' // experiment YAML: syntax, schema, semantics
  | 'data' // dataset: missing, empty, malformed line, encoding, too long
  | 'numeric' // NaN/Inf loss or gradient
  | 'checkpoint' // missing/corrupt checkpoint or mismatched model
  | 'backend' // requested engine not available
  | 'usage'; // bad CLI arguments

export class AvaError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorLocation;
  /** Extra lines (e.g. every bad line of a file); the message stays one line. */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, where: ErrorLocation = {}, details: string[] = []) {
    super(message);
    this.name = 'AvaError';
    this.code = code;
    this.where = where;
    this.details = details;
  }

  /** `file:line:column: key: message`, leaving out what is unknown. */
  format(): string {
    const w = this.where;
    const place = w.file ? [w.file, w.line, w.line !== undefined ? w.column : undefined].filter((x) => x !== undefined).join(':') : '';
    return [place, w.key, this.message].filter((s) => s !== undefined && s !== '').join(': ');
  }
}

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, data: 4, numeric: 5, interrupted: 130 } as const;
