/** The webview side of the host channel: typed posting and the page's saved state. */
import type { PanelArgs, WebviewToHost } from '../src/protocol/webview.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** What a page saves: the panel's arguments (read by the host's serializer) and its UI settings. */
export interface SavedState<Ui> {
  args?: PanelArgs;
  ui?: Partial<Ui>;
}

const api: VsCodeApi = acquireVsCodeApi();

export function post(message: WebviewToHost): void {
  api.postMessage(message);
}

export function loadState<Ui>(): SavedState<Ui> {
  const s = api.getState();
  return typeof s === 'object' && s !== null ? (s as SavedState<Ui>) : {};
}

export function saveState<Ui>(state: SavedState<Ui>): void {
  api.setState(state);
}

/** Report an error of the page to the extension's log. */
export function logError(message: string): void {
  post({ type: 'log', level: 'error', message });
}
