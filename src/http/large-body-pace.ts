/**
 * The read rate of large bodies, shared by every request of one inbox. Webhooks are small; a
 * stream of multi-megabyte bodies is almost always someone without the secret, and reading,
 * hashing and collecting their bytes at loopback speed takes the CPU that valid webhooks need
 * (measured: two clients flooding unsigned 3 MB bodies at ~750 MB/s made valid Stripe p99 6–9x
 * slower). So the bytes of a body beyond its first `LARGE_BODY_BYTES` draw on a token bucket of
 * `largeBodyBytesPerSecond`; a read that overdraws it pauses its stream until the debt is paid
 * back (TCP backpressure slows the sender). Small bodies, and the head of every body, are never
 * paced.
 */
export const LARGE_BODY_BYTES = 64 * 1024;

/** Longest burst, as time at the full rate: a lone large body is read without a pause. */
const BURST_S = 0.25;

export class LargeBodyPace {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at = performance.now();

  constructor(bytesPerSecond: number) {
    this.#rate = bytesPerSecond / 1000; // per millisecond
    this.#burst = bytesPerSecond * BURST_S;
    this.#tokens = this.#burst;
  }

  /**
   * A body has `received` bytes now, `chunk` of them just arrived: how many milliseconds its
   * stream should wait before it reads on (0: no wait).
   */
  wait(received: number, chunk: number): number {
    const paced = Math.max(0, received - LARGE_BODY_BYTES) - Math.max(0, received - chunk - LARGE_BODY_BYTES);
    if (paced === 0) return 0;
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#rate) - paced;
    this.#at = now;
    // Debt is allowed: each overdraw waits until the debt before it and its own are paid, so
    // paused bodies resume in the order they overdrew.
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens / this.#rate);
  }
}
