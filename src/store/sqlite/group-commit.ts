import type { Database } from "better-sqlite3";
import { KnockerError, storageError } from "../../errors.js";
import type { IngestResult } from "../../interfaces.js";
import type { Observer } from "../../observer.js";
import type { Queue } from "./queue.js";
import { immediateTransaction } from "./connection.js";
import type { WalSync } from "./wal-sync.js";
import type { Receipt } from "../../ingest/receipt.js";
import { deliveryValues, eventValues, prepareReceiptStatements, type ReceiptStatements } from "./plans/receipts.js";
import { prepareOrderingStatements, type OrderingStatements } from "./plans/ordering.js";

/** Upper bound on receipts per commit, so one transaction never holds the lock for long. */
const MAX_BATCH = 512;

type Outcome = { ok: true; result: IngestResult } | { ok: false; error: unknown };

interface Pending {
  receipt: Receipt;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: receipts submitted in the same turn of the event loop are written in one
 * BEGIN IMMEDIATE … COMMIT, isolated by SAVEPOINTs so one failing receipt cannot take its
 * neighbours down. Every promise settles only after COMMIT has returned and, with
 * `durability: "full"`, after the fsync that made it durable (run off the event loop by
 * `WalSync` once the WAL file exists).
 */
export class GroupCommitter {
  readonly #db: Database;
  readonly #queue: Queue;
  readonly #sql: ReceiptStatements;
  readonly #ordering: OrderingStatements;
  readonly #storeAll: (batch: readonly Pending[]) => IngestResult[];
  readonly #storeOne: (receipt: Receipt) => IngestResult;
  readonly #onJobsCommitted: () => void;
  readonly #observer: Observer;
  readonly #walSync: WalSync | null;
  #pending: Pending[] = [];
  #scheduled = false;
  /** A committed batch's WAL sync is running (see #schedule). */
  #syncing = false;

  /** `walSync`: how full durability is reached without blocking; null for "normal" or no file. */
  constructor(db: Database, queue: Queue, observer: Observer, walSync: WalSync | null, onJobsCommitted: () => void) {
    this.#observer = observer;
    this.#walSync = walSync;
    this.#db = db;
    this.#queue = queue;
    this.#sql = prepareReceiptStatements(db);
    this.#ordering = prepareOrderingStatements(db);
    // Called inside the batch transaction, so better-sqlite3 turns each into a SAVEPOINT. A
    // SAVEPOINT per receipt copies every page the receipt touches into the savepoint journal
    // (about a fifth of the cost of storing it), so the whole batch first runs under one
    // SAVEPOINT; only when a receipt fails is it rolled back and replayed one SAVEPOINT each.
    this.#storeAll = db.transaction((batch: readonly Pending[]) => this.#storeBatch(batch.map(({ receipt }) => receipt)));
    this.#storeOne = db.transaction((receipt: Receipt) => this.#store(receipt));
    this.#onJobsCommitted = onJobsCommitted;
  }

  submit(receipt: Receipt): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ receipt, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Flush on the next turn, after the poll phase has read every request that is ready. While a
   * batch's WAL sync is running the next batch waits for it and grows meanwhile: committing
   * beside a running sync made batches smaller and every receipt dearer.
   */
  #schedule(): void {
    if (this.#scheduled || this.#syncing) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Commit everything submitted so far and make it durable before returning (close()). */
  flushNow(): void {
    while (this.#pending.length > 0) this.#flush();
    this.#walSync?.syncNow();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;

    const outcomes: Outcome[] = [];
    const started = performance.now();
    let deferred = false;
    const commit = () => immediateTransaction(this.#db, "storing receipts", () => {
      outcomes.length = 0;
      try {
        for (const result of this.#storeAll(batch)) outcomes.push({ ok: true, result });
        return;
      } catch (error) {
        // SQLite may abandon the whole transaction (e.g. SQLITE_FULL): then nothing of the
        // batch can commit, and every receipt must be refused.
        if (!this.#db.inTransaction) throw error;
      }
      outcomes.length = 0;
      for (const { receipt } of batch) {
        try {
          outcomes.push({ ok: true, result: this.#storeOne(receipt) });
        } catch (error) {
          if (!this.#db.inTransaction) throw error;
          outcomes.push({ ok: false, error: storageError("storing a receipt", error) });
        }
      }
    });
    try {
      if (this.#walSync === null) commit();
      else deferred = this.#walSync.commitDeferred(commit);
    } catch (error) {
      const failure = error instanceof KnockerError ? error : storageError("committing receipts", error);
      for (const pending of batch) pending.reject(failure);
      this.#observer.emit("ingest:commit", { receipts: batch.length, durationMs: performance.now() - started, ok: false });
      if (this.#pending.length > 0) this.#schedule();
      return;
    }
    this.#observer.emit("ingest:commit", { receipts: batch.length, durationMs: performance.now() - started, ok: true });
    this.#acknowledge(batch, outcomes, deferred);
    // The jobs are visible now; a handler may run before the sync ends, only the sender's
    // acknowledgement has to wait for it.
    if (outcomes.some((outcome) => outcome.ok && outcome.result.eventId !== null && !outcome.result.duplicate)) this.#onJobsCommitted();
  }

  /** Settle a committed batch's promises: at once, or (`deferred`) once its WAL sync has ended. */
  #acknowledge(batch: readonly Pending[], outcomes: readonly Outcome[], deferred: boolean): void {
    const settle = () =>
      batch.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.result);
        else pending.reject(outcome.error);
      });
    if (!deferred) {
      settle();
      if (this.#pending.length > 0) this.#schedule();
      return;
    }
    this.#syncing = true;
    this.#walSync!.afterCommit((error) => {
      this.#syncing = false;
      if (error === null) {
        settle();
      } else {
        const failure = storageError("making receipts durable (sync of the WAL file)", error);
        for (const pending of batch) pending.reject(failure);
      }
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  /**
   * The whole batch, in order. Consecutive receipts that each make a new event are written
   * together: one multi-row INSERT for their events, one INSERT … SELECT for their jobs and one
   * for their deliveries, which costs about a third less than three statements per receipt.
   * Anything else (a rejected receipt, a handshake, a duplicate — also of a receipt earlier in
   * the same run) ends the run and is stored on its own, so ids still follow arrival order.
   */
  #storeBatch(receipts: readonly Receipt[]): IngestResult[] {
    const results: IngestResult[] = [];
    let run: Receipt[] = [];
    const runKeys = new Set<string>();
    const endRun = () => {
      if (run.length === 0) return;
      results.push(...this.#storeNewEvents(run));
      run = [];
      runKeys.clear();
    };
    for (const receipt of receipts) {
      if (receipt.signatureValid && !receipt.handshake && receipt.signatureError === null) {
        if (receipt.dedupeKey === null && receipt.bodyIdentity === null) {
          run.push(receipt);
          continue;
        }
        const key = receipt.dedupeKey === null ? null : `${receipt.endpointId}:${receipt.dedupeKey}`;
        const identity = receipt.bodyIdentity === null ? null : `${receipt.endpointId}#${receipt.bodyIdentity}`;
        if ((key === null || !runKeys.has(key)) && (identity === null || !runKeys.has(identity))) {
          const existing = this.#existingEvent(receipt);
          if (existing === undefined) {
            run.push(receipt);
            if (key !== null) runKeys.add(key);
            if (identity !== null) runKeys.add(identity);
          } else {
            endRun();
            results.push(this.#storeDuplicate(receipt, existing));
          }
          continue;
        }
      }
      endRun();
      results.push(this.#store(receipt));
    }
    endRun();
    return results;
  }

  /** Receipts known to make new events: their events, jobs and deliveries, in order. */
  #storeNewEvents(receipts: readonly Receipt[]): IngestResult[] {
    const changesBefore = this.#sql.totalChanges.get() as number;
    const lastEventId = this.#sql.insertEvents(receipts);
    const firstEventId = lastEventId - receipts.length + 1;
    const lastDeliveryId = Number(this.#sql.copyDeliveriesOfEvents.run(firstEventId, lastEventId).lastInsertRowid);
    this.#queue.enqueueEventRange(firstEventId, lastEventId);
    // The ids are worked out, not read back: under our write lock AUTOINCREMENT numbers our rows
    // consecutively — unless something else wrote rows meanwhile (an app's trigger on these
    // tables). Then the batch is rolled back and stored one receipt at a time.
    if ((this.#sql.totalChanges.get() as number) - changesBefore !== 3 * receipts.length) {
      throw new Error("other rows were written between the batch's own");
    }
    // Keyed events take their places now, in id order (no statement for a run without one).
    for (let index = 0; index < receipts.length; index++) {
      const { orderingKey, endpointId } = receipts[index]!;
      if (orderingKey !== null) this.#ordering.place(firstEventId + index, endpointId, orderingKey);
    }
    const firstDeliveryId = lastDeliveryId - receipts.length + 1;
    return receipts.map((_, index) => ({
      deliveryId: firstDeliveryId + index,
      eventId: firstEventId + index,
      duplicate: false,
      statusCode: 204,
    }));
  }

  #store(receipt: Receipt): IngestResult {
    const deliveryId = (eventId: number | null) => this.#insertDelivery(receipt, eventId);

    if (!receipt.signatureValid) {
      return { deliveryId: deliveryId(null), eventId: null, duplicate: false, statusCode: receipt.rejectStatus };
    }
    if (receipt.handshake) {
      const id = deliveryId(null);
      return receipt.reply
        ? { deliveryId: id, eventId: null, duplicate: false, statusCode: 200, reply: receipt.reply }
        : { deliveryId: id, eventId: null, duplicate: false, statusCode: 204 };
    }
    const existing = this.#existingEvent(receipt);
    if (existing !== undefined) return this.#storeDuplicate(receipt, existing);
    const eventId = Number(this.#sql.insertEvent.run(...eventValues(receipt)).lastInsertRowid);
    if (receipt.orderingKey !== null) this.#ordering.place(eventId, receipt.endpointId, receipt.orderingKey);
    this.#queue.enqueue({ event_id: eventId }, receipt.receivedAt);
    return { deliveryId: deliveryId(eventId), eventId, duplicate: false, statusCode: 204 };
  }

  /** The event this receipt repeats: by its dedupe key, else by its body identity. */
  #existingEvent(receipt: Receipt): number | undefined {
    if (receipt.dedupeKey !== null) {
      const byKey = this.#sql.findEventByKey.get(receipt.endpointId, receipt.dedupeKey) as number | undefined;
      if (byKey !== undefined) return byKey;
    }
    if (receipt.bodyIdentity === null) return undefined;
    return this.#sql.findEventByBodyIdentity.get(receipt.endpointId, receipt.bodyIdentity) as number | undefined;
  }

  /** Another delivery of an event already stored. */
  #storeDuplicate(receipt: Receipt, eventId: number): IngestResult {
    return { deliveryId: this.#insertDelivery(receipt, eventId), eventId, duplicate: true, statusCode: 204 };
  }

  #insertDelivery(receipt: Receipt, eventId: number | null): number {
    return Number(this.#sql.insertDelivery.run(...deliveryValues(receipt, eventId)).lastInsertRowid);
  }
}
