/** Turning an `export` message into a file name and bytes. Pure: no `vscode`. */
import type { ExportFormat } from '../../protocol/webview.js';
import { AvaError } from '../../core/errors.js';

export const EXPORT_FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  csv: { 'CSV': ['csv'] },
  png: { 'PNG image': ['png'] },
  md: { 'Markdown': ['md'] },
  tex: { 'LaTeX': ['tex'] },
};

/** A safe file name with the format's extension (no directories, no odd characters). */
export function exportFileName(requested: string, format: ExportFormat): string {
  const stem = requested.replace(/\.[A-Za-z0-9]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'export';
  return `${stem.slice(0, 100)}.${format}`;
}

const PNG_PREFIX = 'data:image/png;base64,';

/** The bytes to write: UTF-8 text, or the decoded PNG of a data URL. */
export function exportBytes(format: ExportFormat, data: string): Uint8Array {
  if (format !== 'png') return new TextEncoder().encode(data);
  if (!data.startsWith(PNG_PREFIX)) throw new AvaError('usage', 'the chart image is not a PNG data URL');
  return Uint8Array.from(Buffer.from(data.slice(PNG_PREFIX.length), 'base64'));
}
