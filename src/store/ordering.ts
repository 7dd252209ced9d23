// Ordered processing per key (CONTRACT §11), the part both engines share: the statuses that hold
// a key's later events back, as the WHERE of the partial index each engine keeps over them.

/**
 * An event that still blocks the later events of its key: keyed and not settled (an event's
 * status stays `received` while its handler runs, so a running one blocks too). Repeated in
 * each query so the planner may use the partial index. `ordering_key IS NOT NULL` comes first:
 * SQLite evaluates a partial index's WHERE on every insert and status update, and for an
 * unkeyed event the first term settles it.
 */
export const UNSETTLED_KEYED = `ordering_key IS NOT NULL AND status IN ('received', 'failed')`;

/** The same, on the events of alias `alias`. */
export function unsettledKeyed(alias: string): string {
  return `${alias}.ordering_key IS NOT NULL AND ${alias}.status IN ('received', 'failed')`;
}
