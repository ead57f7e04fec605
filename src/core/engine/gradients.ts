/**
 * Gradient registration. `@tensorflow/tfjs-core` on its own registers no gradient functions
 * (the `@tensorflow/tfjs` umbrella package normally does it); they live in the ES-module
 * file `dist/register_all_gradients.js`, whose relative imports have no `.js` suffix.
 * Bundlers resolve those; Node's own ES-module loader does not. When running from source we
 * therefore install a tiny resolve hook that retries such imports with `.js`, limited to files
 * inside tfjs-core's `dist/`. In the esbuild bundle the import below is bundled and the hook
 * is never consulted.
 */
import * as nodeModule from 'node:module';

/** Resolve hook (runs in Node's loader thread): `./x` → `./x.js` for tfjs-core's dist files. */
const TFJS_DIST_RESOLVER = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const fromTfjsCore = (context.parentURL || '').includes('/@tensorflow/tfjs-core/dist/');
    if (fromTfjsCore && specifier.startsWith('.') && !specifier.endsWith('.js')) return next(specifier + '.js', context);
    throw err;
  }
}`;

let registered: Promise<void> | null = null;

/** Registers every tfjs-core gradient once per process (idempotent). */
export function registerGradients(): Promise<void> {
  registered ??= load();
  return registered;
}

async function load(): Promise<void> {
  if (typeof nodeModule.register === 'function') {
    nodeModule.register('data:text/javascript,' + encodeURIComponent(TFJS_DIST_RESOLVER));
  }
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
}
