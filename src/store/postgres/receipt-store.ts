import type { QueryResultRow } from "pg";
import { KnockerError } from "../../errors.js";
import type { IngestResult } from "../../interfaces.js";
import type { Receipt } from "../../ingest/receipt.js";
import type { Observer } from "../../observer.js";
import type { ReceiptStore } from "../store.js";
import type { PgClient, PgPool } from "./driver.js";
import { isConnectionError, isDataError, pgStorageError } from "./errors.js";
import { receiptPlans, type ReceiptPlans } from "./plans/receipts.js";
import { statementName } from "./queries.js";
import { beginStatement, checkOut } from "./session.js";

/** Upper bound on receipts per transaction. */
const MAX_BATCH = 512;

interface Pending {
  receipt: Receipt;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; result: IngestResult } | { ok: false; error: unknown };

export interface PgReceiptConfig {
  schema: string;
  /** The quoted schema, as the plans take it. */
  quotedSchema: string;
  queueName: string;
  maxAttempts: number;
  durability: "full" | "normal";
  /** The NOTIFY channel of this inbox's queue. */
  channel: string;
  /** The longest wait for a pool client or a lock (ERR_STORAGE_BUSY after it). */
  busyTimeoutMs: number;
}

/**
 * The group commit of the Postgres engine: receipts submitted in the same turn of the event loop
 * share one transaction and a handful of round trips (arrays through unnest()). A receipt's
 * promise settles only after COMMIT has returned, with `synchronous_commit` on for durability
 * "full": the commit is durable on the server. Dedupe holds across nodes: the unique indexes
 * decide, and an insert racing another node's waits for it.
 */
export class PgReceiptStore implements ReceiptStore {
  readonly #pool: PgPool;
  readonly #config: PgReceiptConfig;
  readonly #sql: ReceiptPlans;
  readonly #observer: Observer;
  readonly #onJobsCommitted: () => void;
  #pending: Pending[] = [];
  #flushing = false;
  #scheduled = false;
  /** Settles when no batch is being written (close() waits for it). */
  #idle: Promise<void> = Promise.resolve();

  constructor(pool: PgPool, config: PgReceiptConfig, observer: Observer, onJobsCommitted: () => void) {
    this.#pool = pool;
    this.#config = config;
    this.#sql = receiptPlans(config.quotedSchema);
    this.#observer = observer;
    this.#onJobsCommitted = onJobsCommitted;
  }

  submit(receipt: Receipt): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ receipt, resolve, reject });
      this.#schedule();
    });
  }

  /** Start writing what is waiting; `drained()` resolves once everything submitted so far has settled. */
  flushNow(): void {
    this.#schedule();
  }

  /** Settles once every receipt submitted before the call has been committed or refused. */
  async drained(): Promise<void> {
    while (this.#pending.length > 0 || this.#flushing || this.#scheduled) await this.#idle.then(() => new Promise((r) => setImmediate(r)));
  }

  /** One batch in flight at a time: the next one grows while the server commits this one. */
  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#idle = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.#flushing = true;
    const started = performance.now();
    let outcomes: Outcome[];
    try {
      outcomes = await this.#commit(batch.map((pending) => pending.receipt));
    } catch (error) {
      const failure = pgStorageError("storing receipts", error);
      outcomes = batch.map(() => ({ ok: false, error: failure }));
    }
    const ok = outcomes.some((outcome) => outcome.ok);
    this.#observer.emit("ingest:commit", { receipts: batch.length, durationMs: performance.now() - started, ok });
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
    if (outcomes.some((outcome) => outcome.ok && outcome.result.eventId !== null && !outcome.result.duplicate)) this.#onJobsCommitted();
    this.#flushing = false;
    if (this.#pending.length > 0) this.#schedule();
  }

  /**
   * The batch in one transaction; when that fails on one receipt's data, each receipt again in a
   * transaction of its own, so one bad receipt cannot refuse its neighbours. A lost connection
   * refuses them all (thrown).
   */
  async #commit(receipts: readonly Receipt[]): Promise<Outcome[]> {
    const client = await checkOut(this.#pool, this.#config.busyTimeoutMs);
    let broken: unknown = undefined;
    try {
      try {
        const results = await this.#transaction(client, receipts);
        return results.map((result) => ({ ok: true, result }));
      } catch (error) {
        if (receipts.length === 1 || !isDataError(error)) throw error;
      }
      const outcomes: Outcome[] = [];
      for (const receipt of receipts) {
        try {
          outcomes.push({ ok: true, result: (await this.#transaction(client, [receipt]))[0]! });
        } catch (error) {
          if (!isDataError(error)) throw error;
          outcomes.push({ ok: false, error: pgStorageError("storing a receipt", error) });
        }
      }
      return outcomes;
    } catch (error) {
      broken = error;
      throw error;
    } finally {
      // A client whose connection failed is destroyed, not handed back to the pool.
      client.release(isConnectionError(broken) ? (broken as Error) : undefined);
    }
  }

  async #transaction(client: PgClient, receipts: readonly Receipt[]): Promise<IngestResult[]> {
    // One simple-protocol message, one round trip.
    await client.query(beginStatement(this.#config.busyTimeoutMs, `; SET LOCAL synchronous_commit TO ${this.#config.durability === "full" ? "on" : "off"}`));
    try {
      const results = await this.#store(client, receipts);
      await client.query("COMMIT");
      return results;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  }

  /** Ids for the events and deliveries, the events that are new, then every delivery and the new events' jobs. */
  async #store(client: PgClient, receipts: readonly Receipt[]): Promise<IngestResult[]> {
    const eventIds: Array<number | null> = receipts.map(() => null);
    const isNew: boolean[] = receipts.map(() => false);
    const candidates = receipts.flatMap((receipt, index) => (receipt.signatureValid && !receipt.handshake ? [index] : []));
    const ids = (await named<{ events: string[]; deliveries: string[] }>(client, this.#sql.nextIds, [candidates.length, receipts.length])).rows[0]!;
    if (candidates.length > 0) {
      const newIds = ids.events.map(Number);
      const rows = candidates.map((index) => receipts[index]!);
      const inserted = await named<{ id: string }>(client, this.#sql.insertEvents, [
        newIds, column(rows, (r) => r.endpointId), column(rows, (r) => r.receivedAt), column(rows, (r) => r.providerEventId),
        column(rows, (r) => r.providerDeliveryId), column(rows, (r) => r.eventType), column(rows, (r) => r.method),
        column(rows, (r) => r.headersJson), column(rows, (r) => r.body), column(rows, (r) => r.queryJson),
        column(rows, (r) => r.dedupeKey), column(rows, (r) => r.bodyIdentity), column(rows, (r) => r.orderingKey),
        column(rows, (r) => r.traceParent),
      ]);
      const insertedIds = new Set(inserted.rows.map((row) => Number(row.id)));
      const repeats: number[] = [];
      const keyed: number[] = [];
      candidates.forEach((index, i) => {
        if (insertedIds.has(newIds[i]!)) {
          eventIds[index] = newIds[i]!;
          isNew[index] = true;
          if (receipts[index]!.orderingKey !== null) keyed.push(newIds[i]!);
        } else {
          repeats.push(index);
        }
      });
      if (keyed.length > 0) await named(client, this.#sql.orderEvents, [keyed]);
      if (repeats.length > 0) await this.#findRepeated(client, receipts, repeats, eventIds);
    }
    const deliveryIds = ids.deliveries.map(Number);
    const fresh = receipts.flatMap((receipt, index) => (isNew[index] ? [{ id: eventIds[index]!, receivedAt: receipt.receivedAt }] : []));
    await named(client, this.#sql.insertDeliveriesAndJobs, [
      deliveryIds, column(receipts, (r) => r.endpointId), eventIds, column(receipts, (r) => r.receivedAt),
      column(receipts, (r) => r.providerEventId), column(receipts, (r) => r.providerDeliveryId), column(receipts, (r) => r.eventType),
      column(receipts, (r) => r.method), column(receipts, (r) => r.headersJson), column(receipts, (r) => r.body),
      column(receipts, (r) => r.queryJson), column(receipts, (r) => (r.signatureValid ? 1 : 0)), column(receipts, (r) => r.signatureError),
      column(receipts, (r) => r.dedupeKey), column(receipts, (r) => r.bodyDigest?.length ?? null), column(receipts, (r) => r.bodyDigest?.sha256 ?? null),
      this.#config.queueName, this.#config.maxAttempts, fresh.map((e) => e.id), fresh.map((e) => e.receivedAt), this.#config.channel,
    ]);
    return receipts.map((receipt, index) => result(receipt, deliveryIds[index]!, eventIds[index]!, isNew[index]!));
  }

  /** The stored event each repeated receipt joins: by its dedupe key, else by its body identity. */
  async #findRepeated(client: PgClient, receipts: readonly Receipt[], repeats: readonly number[], eventIds: Array<number | null>): Promise<void> {
    const keyed = repeats.map((index) => receipts[index]!).filter((r) => r.dedupeKey !== null);
    const identified = repeats.map((index) => receipts[index]!).filter((r) => r.bodyIdentity !== null);
    const found = await named<{ id: string; endpoint_id: string; dedupe_key: string | null; body_identity: string | null }>(
      client,
      this.#sql.existingEvents,
      [keyed.map((r) => r.endpointId), keyed.map((r) => r.dedupeKey), identified.map((r) => r.endpointId), identified.map((r) => r.bodyIdentity)],
    );
    const byKey = new Map<string, number>();
    const byIdentity = new Map<string, number>();
    for (const row of found.rows) {
      if (row.dedupe_key !== null) byKey.set(`${row.endpoint_id}:${row.dedupe_key}`, Number(row.id));
      if (row.body_identity !== null) byIdentity.set(`${row.endpoint_id}:${row.body_identity}`, Number(row.id));
    }
    for (const index of repeats) {
      const receipt = receipts[index]!;
      const id = (receipt.dedupeKey === null ? undefined : byKey.get(`${receipt.endpointId}:${receipt.dedupeKey}`)) ??
        (receipt.bodyIdentity === null ? undefined : byIdentity.get(`${receipt.endpointId}:${receipt.bodyIdentity}`));
      // Skipped by ON CONFLICT but not found: the event it repeated was removed meanwhile (a prune).
      if (id === undefined) throw new KnockerError("ERR_STORAGE", "a repeated receipt's event was removed while it was stored; retry");
      eventIds[index] = id;
    }
  }

}

/** Named: parsed and planned once per connection (the statement texts are a fixed few). */
function named<R extends QueryResultRow>(client: PgClient, text: string, values: unknown[]) {
  return client.query<R>({ name: statementName(text), text, values });
}

function column<T>(rows: readonly Receipt[], pick: (receipt: Receipt) => T): T[] {
  return rows.map(pick);
}

function result(receipt: Receipt, deliveryId: number, eventId: number | null, isNew: boolean): IngestResult {
  if (!receipt.signatureValid) return { deliveryId, eventId: null, duplicate: false, statusCode: receipt.rejectStatus };
  if (receipt.handshake) {
    return receipt.reply
      ? { deliveryId, eventId: null, duplicate: false, statusCode: 200, reply: receipt.reply }
      : { deliveryId, eventId: null, duplicate: false, statusCode: 204 };
  }
  return { deliveryId, eventId, duplicate: !isNew, statusCode: 204 };
}
