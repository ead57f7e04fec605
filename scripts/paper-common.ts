/** What the README's paper-vs-lab win-rate tables share: the cell format and the verdict rule. */
export type WTL = [number, number, number];

export const fmtWtl = (w: WTL) => w.map((x) => x.toFixed(1)).join(' / ');

export const fmtP = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/** Does the lab's win-minus-lose have the paper's sign, and is the lab's difference significant (sign test)? */
export function ordering(paperSign: number, lab: WTL, p: number): string {
  const labSign = Math.sign(lab[0] - lab[2]);
  const significant = p < 0.05;
  return labSign === paperSign ? (significant ? 'holds' : 'same direction, not significant') : significant ? 'reversed' : 'not reproduced (no significant difference)';
}
