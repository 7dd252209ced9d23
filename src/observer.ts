/** Events Knocker emits for metrics and logging; bridge them to your logger or OpenTelemetry. */
export interface KnockerEventMap {
  /** One group commit of receipts finished (successfully or not). */
  "ingest:commit": { receipts: number; durationMs: number; ok: boolean };
  /** A worker finished one claimed batch. */
  "worker:batch": { workerId: string; jobs: number; handled: number; failed: number; dead: number; durationMs: number };
  /** runRetention(): a due fire became a retention job (`missedFires` earlier fires collapsed into it). */
  "retention:fire": { queueName: string; jobId: number; fireAt: number; missedFires: number };
  /** runRetention(): a retention job finished; `complete` is false when a stop ended it between batches. */
  "retention:run": {
    queueName: string;
    jobId: number;
    fireAt: number;
    batches: number;
    eventsPruned: number;
    deliveriesPruned: number;
    attemptsPruned: number;
    liveJobsPruned: number;
    orphanDeliveriesPruned: number;
    complete: boolean;
    durationMs: number;
  };
  /**
   * An endpoint's `orderingKey` threw or returned something that is not a key: the receipt was
   * stored as usual, its event unordered. `error` is what it threw, or an ERR_INVALID_ORDERING_KEY.
   */
  "ingest:ordering-key-error": { endpoint: string; error: unknown };
  /** A rejected receipt was not stored: its endpoint is over `invalidDeliveriesPerMinute` this minute. */
  "ingest:rejection-dropped": { endpoint: string; droppedThisMinute: number };
  /** The HTTP front door (`fetch()` / `nodeHandler()`) answered a request. */
  "http:response": {
    method: string;
    path: string;
    /** The endpoint serving the path; null for an unknown path. */
    endpoint: string | null;
    status: number;
    /** The stored delivery; null when nothing was stored (404 unknown path, 405, 400, 5xx). */
    deliveryId: number | null;
    eventId: number | null;
    duplicate: boolean;
    durationMs: number;
    /** For a 5xx: what `receive()` threw, or ERR_BODY_PARSED from reading the body (never sent to the client). */
    error?: unknown;
  };
}

export type KnockerEventName = keyof KnockerEventMap;
export type KnockerListener<K extends KnockerEventName> = (payload: KnockerEventMap[K]) => void;

/** A tiny typed emitter; a listener that throws is ignored so it can never break a commit. */
export class Observer {
  readonly #listeners = new Map<KnockerEventName, Set<(payload: never) => void>>();

  on<K extends KnockerEventName>(name: K, listener: KnockerListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set!.delete(listener as (payload: never) => void);
  }

  /** Whether `name` has a listener: lets a hot path skip building a payload nobody reads. */
  has(name: KnockerEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends KnockerEventName>(name: K, payload: KnockerEventMap[K]): void {
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) return;
    for (const listener of set) {
      try {
        (listener as KnockerListener<K>)(payload);
      } catch {
        // observers must not affect the pipeline
      }
    }
  }
}
