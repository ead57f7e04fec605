/**
 * From a key path in the parsed YAML to a 1-based file:line:column, through the `yaml`
 * Document's node ranges and a LineCounter. Every diagnostic of the loader goes through here.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Diagnostic } from '../../protocol/events.js';

/** One step of a key path: a map key or a list index. */
export type Segment = string | number;

/** A problem found at a key path, before it is placed in the file. */
export interface Issue {
  path: Segment[];
  /** Point at the key itself (unknown key, missing file) or at its value (wrong type or value). */
  at: 'key' | 'value';
  message: string;
  severity: Diagnostic['severity'];
}

/** `objective.kl_coef`, `seeds[1]`, `ablations.w/o rwt.model`. */
export function dottedKey(path: readonly Segment[]): string {
  return path.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s === '' ? seg : `${s}.${seg}`), '');
}

type Range = readonly [number, number];

export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  /** The key or value range at `path`, or undefined when the file does not write that key. */
  find(path: readonly Segment[], at: Issue['at']): Range | undefined {
    let node: unknown = this.doc.contents;
    let keyNode: unknown = undefined;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return undefined;
        [keyNode, node] = [pair.key, pair.value];
      } else if (isSeq(node) && typeof seg === 'number') {
        [keyNode, node] = [node.items[seg], node.items[seg]];
        if (node === undefined) return undefined;
      } else {
        return undefined;
      }
    }
    // A key without a value (`model:`) has no value node: point at the key.
    return rangeOf(at === 'value' ? (node ?? keyNode) : (keyNode ?? node));
  }

  /** Like `find`, but falls back to the nearest written ancestor's key, then to the document's start. */
  nearest(path: readonly Segment[], at: Issue['at']): Range {
    const exact = this.find(path, at);
    if (exact) return exact;
    for (let n = path.length - 1; n >= 0; n--) {
      const r = this.find(path.slice(0, n), 'key');
      if (r) return r;
    }
    return [0, 0];
  }

  diagnostic(range: Range, key: readonly Segment[], message: string, severity: Diagnostic['severity']): Diagnostic {
    const start = this.lines.linePos(range[0]);
    const end = this.lines.linePos(Math.max(range[1], range[0]));
    return {
      file: this.file,
      line: start.line,
      column: start.col,
      endLine: end.line,
      endColumn: end.col,
      key: dottedKey(key),
      message,
      severity,
    };
  }

  /** An issue at its own path (or the nearest written ancestor). */
  place(issue: Issue): Diagnostic {
    return this.diagnostic(this.nearest(issue.path, issue.at), issue.path, issue.message, issue.severity);
  }
}

function rangeOf(node: unknown): Range | undefined {
  const r = (node as Node | null | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}
