// Builds the three bundles (esbuild): the extension (CJS, for VS Code's extension host),
// the backend CLI (CJS, for a real `node`), and the webview (IIFE, for the browser).
// The tfjs wasm binaries are copied beside the backend bundle, which loads them from there.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync(dist, { recursive: true });

/** Native/optional modules the backend loads at run time when the user installed them. */
const optionalNative = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', absWorkingDir: root };
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
/** Node bundles are CommonJS: give source written as ES modules its `import.meta` back. */
const nodeCjs = {
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: 'const __import_meta_url = require("url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__import_meta_url', 'import.meta.dirname': '__dirname', __AVA_LAB_VERSION__: JSON.stringify(version) },
};

const targets = [
  { ...common, ...nodeCjs, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.cjs', external: optionalNative },
  { ...common, ...nodeCjs, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.cjs', external: ['vscode'] },
  { ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'text' } },
  { ...common, ...nodeCjs, entryPoints: ['src/core/train/parallel-worker.ts'], outfile: 'dist/parallel-worker.cjs', external: optionalNative },
  { ...common, ...nodeCjs, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.cjs', external: optionalNative },
].filter((t) => existsSync(join(root, t.entryPoints[0])));

// The wasm backend looks for its binaries next to the bundle that contains it.
const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(dist, f));

if (watch) {
  for (const t of targets) (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
