import { KnockerError } from "../../errors.js";

/**
 * A failure of the Postgres engine as a KnockerError: ERR_STORAGE_BUSY when the server or the pool
 * said "not now" (no free client within the pool's wait, too many connections, a lock or
 * serialization conflict, the server shutting down), ERR_STORAGE otherwise.
 */
export function pgStorageError(action: string, error: unknown): KnockerError {
  if (error instanceof KnockerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new KnockerError(isBusy(error) ? "ERR_STORAGE_BUSY" : "ERR_STORAGE", `${action} failed: ${detail}`, { cause: error });
}

/** SQLSTATEs of a server that is busy rather than broken. */
const BUSY_STATES = new Set(["53300", "55P03", "40001", "40P01", "57P03"]);

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && BUSY_STATES.has(code)) return true;
  // node-postgres's pool, when `connectionTimeoutMillis` passes with every client in use.
  return error instanceof Error && /timeout exceeded when trying to connect/i.test(error.message);
}

/** A failure of the connection (or of the server under it), not of a statement. */
export function isConnectionError(error: unknown): boolean {
  if (error === undefined) return false;
  const code = (error as { code?: unknown } | null)?.code;
  // Knocker's own errors and SQL errors carry a five-character SQLSTATE or a KnockerError code.
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith("08") || code.startsWith("57");
  if (typeof code === "string" && code.startsWith("ERR_")) return false;
  return true;
}

/** A refusal of this data (class 22: bad value, 23: a constraint), not of the connection or server. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
