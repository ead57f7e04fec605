/**
 * The plumbing every panel shares: webview options (scripts on, resources only from dist/ and
 * media/), the CSP page, buffered typed sending, and validated receiving. Common requests
 * (`ready`, `export`, `copy`, `log`) are handled here; the rest go to the panel.
 *
 * Context is not retained when a panel is hidden: the host keeps each panel's whole model and
 * answers every `ready` with a snapshot, so a hidden panel costs no renderer memory and its UI
 * settings live in the webview state (getState/setState).
 */
import * as vscode from 'vscode';
import { isWebviewMessage, type HostToWebview, type PanelKind, type WebviewToHost } from '../../protocol/webview.js';
import type { DisposableStore } from './disposables.js';
import { copyText, saveExport } from './exporter.js';
import { OutboundQueue } from './outboundQueue.js';
import type { PanelServices } from './services.js';
import { makeNonce, renderPage } from './webviewHtml.js';

export type PanelRequest = Exclude<WebviewToHost, { type: 'ready' | 'export' | 'copy' | 'log' }>;

export interface PanelHandlers {
  /** The full state of the panel, sent to every (re)loaded page. */
  snapshot(): HostToWebview;
  /** Requests specific to the panel. */
  request(message: PanelRequest): void | Promise<void>;
  /** Where the save dialog of an export starts. */
  exportDir(): string;
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class PanelWebview {
  private readonly queue: OutboundQueue<HostToWebview>;

  constructor(
    readonly panel: vscode.WebviewPanel,
    kind: PanelKind,
    private readonly services: PanelServices,
    private readonly handlers: PanelHandlers,
    disposables: DisposableStore,
  ) {
    const webview = panel.webview;
    webview.options = panelOptions(services.extensionUri);
    webview.html = renderPage({
      kind,
      title: panel.title,
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(services.extensionUri, 'dist', 'webview.js')).toString(),
      nonce: makeNonce(),
    });
    this.queue = new OutboundQueue((m) => void webview.postMessage(m), () => handlers.snapshot(), panel.visible);
    disposables.add(webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    disposables.add(panel.onDidChangeViewState(() => this.queue.setVisible(panel.visible)));
  }

  send(message: HostToWebview): void {
    this.queue.send(message);
  }

  private receive(message: unknown): void {
    if (!isWebviewMessage(message)) {
      this.services.log.warn(`panel: ignored a malformed message ${JSON.stringify(message)?.slice(0, 200)}`);
      return;
    }
    void this.handle(message).catch((e: unknown) => {
      const text = e instanceof Error ? e.message : String(e);
      this.services.log.error(`panel: ${message.type} failed: ${text}`);
      void vscode.window.showErrorMessage(`AVA Lab: ${text}`);
    });
  }

  private async handle(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.queue.ready();
        return;
      case 'export':
        await saveExport(message, this.handlers.exportDir());
        return;
      case 'copy':
        await copyText(message.text);
        return;
      case 'log':
        this.services.log[message.level](`webview: ${message.message}`);
        return;
      default:
        await this.handlers.request(message);
    }
  }
}
