/**
 * The HTML page of every panel: an empty app root, one bundled script (dist/webview.js) and a
 * strict Content-Security-Policy: nothing remote, scripts only with this page's nonce, styles
 * and images only from the extension (the bundle applies its CSS as constructed style sheets).
 * Pure: the caller passes `webview.cspSource` and the script's webview URI.
 */
import { randomBytes } from 'node:crypto';
import type { PanelKind } from '../../protocol/webview.js';

export interface PageOptions {
  kind: PanelKind;
  title: string;
  cspSource: string;
  scriptUri: string;
  nonce: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderPage(o: PageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeHtml(o.title)}</title>
</head>
<body data-panel="${o.kind}">
  <main id="app" data-testid="app" aria-busy="true">Loading…</main>
  <script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
