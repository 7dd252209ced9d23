import type { RetryBackoff } from "../interfaces.js";

/**
 * Seconds to wait before retry number `attempt` (1 = first retry):
 * `min(maxS, initialS * 2^(attempt-1))`, with "equal jitter" — somewhere between half and the
 * whole delay — so failures that happened together do not retry together. `false` = no delay.
 */
export function retryDelayS(backoff: RetryBackoff | false, attempt: number, random: () => number = Math.random): number {
  if (backoff === false) return 0;
  const ceiling = Math.min(backoff.maxS, backoff.initialS * 2 ** Math.max(0, attempt - 1));
  return Math.ceil(ceiling / 2 + (random() * ceiling) / 2);
}
