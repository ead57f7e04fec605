/**
 * Exponential moving average for training curves, debiased like TensorBoard's smoother:
 *   s_t = w·s_{t−1} + (1 − w)·x_t,   shown value s_t / (1 − w^k)   (k = finite points so far),
 * so the first point equals the first value and a constant curve stays constant.
 * Non-finite values are passed through and do not update the average.
 */
export const MAX_SMOOTHING = 0.999;

export function emaSmooth(values: readonly number[], weight: number): number[] {
  const w = Math.max(0, Math.min(MAX_SMOOTHING, Number.isFinite(weight) ? weight : 0));
  if (w === 0) return values.slice();
  let acc = 0;
  let k = 0;
  return values.map((x) => {
    if (!Number.isFinite(x)) return x;
    acc = w * acc + (1 - w) * x;
    k += 1;
    return acc / (1 - w ** k);
  });
}
