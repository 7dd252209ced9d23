import type { Attributes, Meter, ObservableCallback, ObservableCounter } from "@opentelemetry/api";

/**
 * A monotonic counter kept in this process and reported at each collection (an OpenTelemetry
 * asynchronous counter): counting a receipt is one Map lookup and an increment, not a
 * synchronous instrument's attribute hashing and aggregation on the ingest path. What a metrics
 * backend sees is the same cumulative sum.
 */
const SHARED = new WeakMap<Meter, Map<string, Tally>>();

export class Tally {
  /**
   * One per meter and name: two inboxes of one process report into one sum (an asynchronous
   * instrument keeps only the last observation of a set of attributes, so two callbacks would
   * hide each other's counts).
   */
  static shared(meter: Meter, name: string, options: { description: string; unit: string }): Tally {
    let byName = SHARED.get(meter);
    if (byName === undefined) SHARED.set(meter, (byName = new Map()));
    let tally = byName.get(name);
    if (tally === undefined) byName.set(name, (tally = new Tally(meter, name, options, () => byName!.delete(name))));
    tally.#users++;
    return tally;
  }

  #users = 0;
  readonly #forget: () => void;
  readonly #counter: ObservableCounter;
  readonly #counts = new Map<string | null, Map<string, { attributes: Attributes; count: number }>>();
  readonly #callback: ObservableCallback;

  private constructor(meter: Meter, name: string, options: { description: string; unit: string }, forget: () => void) {
    this.#forget = forget;
    this.#counter = meter.createObservableCounter(name, options);
    this.#callback = (result) => {
      for (const byOutcome of this.#counts.values()) for (const { attributes, count } of byOutcome.values()) result.observe(count, attributes);
    };
    this.#counter.addCallback(this.#callback);
  }

  /** Count one of (`endpoint`, `outcome`); `endpoint` null: the attribute is left out. */
  add(endpoint: string | null, outcome: string): void {
    let byOutcome = this.#counts.get(endpoint);
    if (byOutcome === undefined) this.#counts.set(endpoint, (byOutcome = new Map()));
    const entry = byOutcome.get(outcome);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    const attributes: Attributes = endpoint === null ? { "knocker.outcome": outcome } : { "knocker.endpoint": endpoint, "knocker.outcome": outcome };
    byOutcome.set(outcome, { attributes: Object.freeze(attributes), count: 1 });
  }

  /** One user is done; the last one's close stops the reporting. */
  close(): void {
    if (--this.#users > 0) return;
    this.#counter.removeCallback(this.#callback);
    this.#forget();
  }
}
