/**
 * The hover of a JSONL line: its response tokens, each on a background whose colour and
 * strength give the sign and size of its reward mean μ̃ (spec §5), followed by μ̃ ± σ̃ in
 * small print; the sequence reward R(y) ± std for chosen and rejected; whether the pair is
 * ranked correctly; links to the token-rewards panel and to the model choice.
 *
 * VS Code's hover sanitiser keeps a <span> style only of the form
 * `color:#hex;background-color:#hex;`, so colours are written exactly so (8-digit hex for
 * translucency). Pure: returns the markdown text, the caller wraps it in a MarkdownString.
 */
import type { LineRewards, SequenceRewards } from '../../protocol/events.js';
import type { ColorSchemeName } from '../../protocol/webview.js';
import { divergingColor, divergingOverlay, symmetricDomain, toHex, type Rgb } from '../../ui-common/colorScale.js';

export interface HoverOptions {
  scheme: ColorSchemeName;
  /** Shown in the header, e.g. `demo · base/seed-0`. */
  modelLabel: string;
  /** `command:` URIs; omitted links are not shown. */
  openPanelLink?: string;
  chooseModelLink?: string;
  /** Tokens shown per sequence before "… n more". */
  maxTokens?: number;
}

const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+!|~]/g;

/** Text safe inside inline HTML in markdown: entities for HTML, backslashes for markdown. */
export function escapeText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`);
}

/** A token as shown: whitespace made visible where it is all there is. */
function tokenText(token: string): string {
  const trimmed = token.trim();
  if (trimmed) return escapeText(trimmed);
  return token.includes('\n') ? '⏎' : '␣';
}

function alphaHex(alpha: number): string {
  return Math.round(Math.max(0, Math.min(1, alpha)) * 255)
    .toString(16)
    .padStart(2, '0');
}

function signed(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

function spanStyle(color?: Rgb, background?: { color: Rgb; alpha: number }): string {
  const fg = color ? `color:${toHex(color)};` : '';
  const bg = background ? `background-color:${toHex(background.color)}${alphaHex(background.alpha)};` : '';
  return `<span style="${fg}${bg}">`;
}

/** Decimals that show the line's largest |μ̃| with two significant digits (at least 2). */
export function valueDigits(domain: number): number {
  if (!(domain > 0) || !Number.isFinite(domain)) return 2;
  return Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(domain))));
}

function renderTokens(seq: SequenceRewards, domain: number, scheme: ColorSchemeName, maxTokens: number): string {
  const digits = valueDigits(domain);
  const shown = seq.tokens.slice(0, maxTokens).map((t) => {
    const token = `${spanStyle(undefined, divergingOverlay(t.mean, domain, scheme, 0.6))}${tokenText(t.token)}</span>`;
    const value = `${spanStyle(divergingColor(t.mean >= 0 ? domain : -domain, domain, scheme))}${signed(t.mean, digits)}</span>`;
    return `${token}<sub>${value}±${t.std.toFixed(digits)}</sub>`;
  });
  const more = seq.tokens.length - shown.length;
  return shown.join(' ') + (more > 0 ? ` … ${more} more` : '');
}

function renderSequence(title: string, seq: SequenceRewards, domain: number, options: HoverOptions): string {
  const std = seq.reward_std !== undefined ? ` ± ${seq.reward_std.toFixed(3)}` : '';
  const gold = seq.gold !== undefined ? ` · gold ${signed(seq.gold, 3)}` : '';
  const header = `**${title}** R = ${signed(seq.reward, 3)}${std}${gold} · ${seq.tokens.length} tokens`;
  return `${header}\n\n${renderTokens(seq, domain, options.scheme, options.maxTokens ?? 80)}`;
}

/** The sequences of a line in display order with their titles. */
export function sequencesOf(r: LineRewards): { name: 'chosen' | 'rejected' | 'response'; title: string; seq: SequenceRewards }[] {
  const out: { name: 'chosen' | 'rejected' | 'response'; title: string; seq: SequenceRewards }[] = [];
  if (r.chosen) out.push({ name: 'chosen', title: 'Chosen', seq: r.chosen });
  if (r.rejected) out.push({ name: 'rejected', title: 'Rejected', seq: r.rejected });
  if (r.response) out.push({ name: 'response', title: 'Response', seq: r.response });
  return out;
}

/** One colour domain for the whole line, so chosen and rejected colours compare. */
export function lineDomain(r: LineRewards): number {
  return symmetricDomain(sequencesOf(r).flatMap(({ seq }) => seq.tokens.map((t) => t.mean)));
}

export function renderLineRewards(r: LineRewards, options: HoverOptions): string {
  const domain = lineDomain(r);
  const parts = [`**AVA Lab** per-token rewards (μ̃ ± σ̃) · line ${r.line} · model \`${options.modelLabel.replace(/`/g, "'")}\``];
  for (const { title, seq } of sequencesOf(r)) parts.push(renderSequence(title, seq, domain, options));
  if (r.correct !== undefined) parts.push(r.correct ? '✓ the model ranks chosen above rejected' : '✗ misranked: the model prefers rejected');
  const links = [
    options.openPanelLink ? `[Open in Token Rewards](${options.openPanelLink})` : '',
    options.chooseModelLink ? `[Choose model…](${options.chooseModelLink})` : '',
  ].filter(Boolean);
  if (links.length) parts.push(links.join(' · '));
  return parts.join('\n\n');
}

/** A `command:` link with JSON arguments, as trusted markdown expects. */
export function commandLink(command: string, args: unknown[] = []): string {
  return args.length ? `command:${command}?${encodeURIComponent(JSON.stringify(args))}` : `command:${command}`;
}
