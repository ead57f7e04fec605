/** What every panel page implements, and helpers they share. */
import type { ExportFormat, HostToWebview } from '../src/protocol/webview.js';
import { post } from './vscodeApi.js';

export interface Page {
  /** A message from the host (already checked to have a known type). */
  receive(message: HostToWebview): void;
  /** The colour theme changed: re-read theme colours. */
  retheme(): void;
}

/** Hand exported content to the host, which asks where to save it. */
export function exporter(format: ExportFormat, fileName: string, data: string): void {
  post({ type: 'export', format, fileName, data });
}
