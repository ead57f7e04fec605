/**
 * Diverging colour scales for per-token rewards, centred at 0.
 *
 * A scale runs from a negative end colour through a neutral grey (at 0) to a positive end
 * colour. Both ends share the same CIELAB lightness and chroma and differ only in hue, and
 * the ramp is linear in CIELAB from the neutral centre, so:
 *   - the centre is neutral (a = b = 0: equal R, G, B);
 *   - the scale is symmetric: f(x) and f(−x) have the same lightness and chroma;
 *   - it is monotone: lightness falls and chroma grows with |x|;
 *   - values beyond ±domain clamp to the end colours.
 * The hue pairs are the classic colour-blind-safe diverging pairs (blue–orange, purple–orange
 * as in ColorBrewer PuOr, blue–red as in RdBu): they stay distinguishable under protan-,
 * deutan- and tritanopia because they also differ along the blue–yellow axis.
 *
 * Pure functions, browser-safe: used by the token-reward panel and the editor hovers.
 */
import type { ColorSchemeName } from '../protocol/webview.js';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

interface Lab {
  L: number;
  a: number;
  b: number;
}

/** Hue angles (degrees in CIELAB a–b plane) of the negative and positive ends. */
const SCHEME_HUES: Record<ColorSchemeName, { negative: number; positive: number }> = {
  'blue-orange': { negative: 62, positive: 268 },
  'purple-orange': { negative: 62, positive: 305 },
  'blue-red': { negative: 35, positive: 268 },
};

export const COLOR_SCHEMES = Object.keys(SCHEME_HUES) as ColorSchemeName[];
export const DEFAULT_COLOR_SCHEME: ColorSchemeName = 'blue-orange';

/** Lightness of the neutral centre and of both ends; chroma of the ends (in gamut for all hues above). */
const CENTRE_L = 96;
const END_L = 55;
const END_CHROMA = 46;

export function isColorScheme(x: unknown): x is ColorSchemeName {
  return typeof x === 'string' && x in SCHEME_HUES;
}

/**
 * Position of `value` on the scale: −1 … 1, clamped, 0 at 0.
 * `domain` is the |value| that maps to a full end colour (≤ 0 or non-finite ⇒ everything neutral).
 */
export function scalePosition(value: number, domain: number): number {
  if (!Number.isFinite(value) || !(domain > 0) || !Number.isFinite(domain)) return 0;
  return Math.max(-1, Math.min(1, value / domain));
}

function labAt(t: number, scheme: ColorSchemeName): Lab {
  const s = Math.abs(t);
  const hue = ((t < 0 ? SCHEME_HUES[scheme].negative : SCHEME_HUES[scheme].positive) * Math.PI) / 180;
  const chroma = s * END_CHROMA;
  return { L: CENTRE_L + s * (END_L - CENTRE_L), a: chroma * Math.cos(hue), b: chroma * Math.sin(hue) };
}

/** The opaque colour of `value` (8-bit sRGB). */
export function divergingColor(value: number, domain: number, scheme: ColorSchemeName = DEFAULT_COLOR_SCHEME): Rgb {
  return labToRgb(labAt(scalePosition(value, domain), scheme));
}

/**
 * A translucent overlay for `value` that works on any theme background: the end colour of
 * its sign with opacity growing with |value| (transparent at 0, `maxAlpha` at ±domain).
 */
export function divergingOverlay(
  value: number,
  domain: number,
  scheme: ColorSchemeName = DEFAULT_COLOR_SCHEME,
  maxAlpha = 0.8,
): { color: Rgb; alpha: number } {
  const t = scalePosition(value, domain);
  return { color: labToRgb(labAt(t < 0 ? -1 : 1, scheme)), alpha: Math.abs(t) * maxAlpha };
}

export function toHex({ r, g, b }: Rgb): string {
  return '#' + [r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('');
}

export function toRgba({ r, g, b }: Rgb, alpha = 1): string {
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 1000) / 1000;
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}

/** CIELAB lightness of an sRGB colour (for tests and contrast decisions). */
export function lightness(rgb: Rgb): number {
  return rgbToLab(rgb).L;
}

/** Symmetric domain for a set of values: the largest |value| (1 when there is none). */
export function symmetricDomain(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m > 0 ? m : 1;
}

// ── CIELAB ↔ sRGB (D65) ─────────────────────────────────────────────────────

const WHITE = { x: 0.95047, y: 1, z: 1.08883 };
const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

function labToRgb({ L, a, b }: Lab): Rgb {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const finv = (f: number): number => (f ** 3 > EPS ? f ** 3 : (116 * f - 16) / KAPPA);
  const x = WHITE.x * finv(fx);
  const y = WHITE.y * finv(fy);
  const z = WHITE.z * finv(fz);
  const lin = [
    3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
    -0.969266 * x + 1.8760108 * y + 0.041556 * z,
    0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
  ];
  const [r, g, bl] = lin.map((c) => Math.round(255 * Math.max(0, Math.min(1, linearToSrgb(c)))));
  return { r, g, b: bl };
}

function rgbToLab({ r, g, b }: Rgb): Lab {
  const [lr, lg, lb] = [r, g, b].map((c) => srgbToLinear(c / 255));
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / WHITE.x;
  const y = (0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb) / WHITE.y;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / WHITE.z;
  const f = (t: number): number => (t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116);
  return { L: 116 * f(y) - 16, a: 500 * (f(x) - f(y)), b: 200 * (f(y) - f(z)) };
}

function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}
