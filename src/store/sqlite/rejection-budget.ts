import type { Database, Statement } from "better-sqlite3";
import type { DroppedCountWriter } from "../../ingest/rejection-budget.js";
import { immediateTransaction } from "./connection.js";

/** The SQLite writer of dropped-rejection counts: one write transaction (see DroppedCountWriter for null and false). */
export function sqliteDroppedCountWriter(db: Database): DroppedCountWriter {
  let upsert: Statement | null = null;
  return (counts) => {
    if (!db.open || db.inTransaction) return null;
    try {
      upsert ??= db.prepare(`INSERT INTO knocker_dropped_rejections (endpoint_id, minute, dropped) VALUES (?, ?, ?)
        ON CONFLICT (endpoint_id, minute) DO UPDATE SET dropped = dropped + excluded.dropped`);
      const statement = upsert;
      immediateTransaction(db, "recording dropped rejections", () => {
        for (const { endpointId, minute, dropped } of counts) statement.run(endpointId, minute, dropped);
      });
      return true;
    } catch {
      return false;
    }
  };
}
