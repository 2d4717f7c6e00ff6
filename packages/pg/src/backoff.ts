/**
 * Decorrelated jitter: each sleep is drawn between `base` and three times the previous one, and
 * capped. Environments that lost the database together spread out instead of retrying in step.
 */
export function nextDelay(
  previous: number,
  base: number,
  cap: number,
  random: () => number = Math.random,
): number {
  const high = Math.max(base, previous * 3)
  return Math.min(cap, base + random() * (high - base))
}
