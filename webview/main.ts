/**
 * Entry of the webview bundle (dist/webview.js): applies the styles, registers the
 * vscode-elements used by the pages, and starts the page named by `<body data-panel>`.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { isHostMessage, type PanelKind } from '../src/protocol/webview.js';
import { ComparePage } from './compare.js';
import { DashboardPage } from './dashboard.js';
import type { Page } from './page.js';
import styles from './styles.css';
import { TokenRewardsPage } from './tokenRewards.js';
import { WinratesPage } from './winrates.js';
import { logError, post } from './vscodeApi.js';

const PAGES: Record<PanelKind, new (root: HTMLElement) => Page> = {
  dashboard: DashboardPage,
  compare: ComparePage,
  tokenRewards: TokenRewardsPage,
  winrates: WinratesPage,
};

function applyStyles(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(styles);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

function start(): void {
  applyStyles();
  const kind = document.body.dataset.panel as PanelKind;
  const root = document.getElementById('app')!;
  const Ctor = PAGES[kind];
  if (!Ctor) {
    root.textContent = `Unknown panel ${kind}`;
    return;
  }
  const page = new Ctor(root);
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (!isHostMessage(e.data)) return;
    try {
      page.receive(e.data);
    } catch (err) {
      logError(`${kind}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  });
  // VS Code sets the theme as a body class; re-read colours when it changes.
  new MutationObserver(() => page.retheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  window.addEventListener('error', (e) => logError(`${kind}: ${e.message}`));
  post({ type: 'ready' });
}

start();
