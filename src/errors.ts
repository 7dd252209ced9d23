/** Stable error codes. Callers switch on `code`; messages are for humans. */
export type KnockerErrorCode =
  | "ERR_INVALID_OPTION"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_UNKNOWN_EVENT"
  | "ERR_UNKNOWN_DELIVERY"
  | "ERR_UNKNOWN_ENDPOINT"
  | "ERR_DUPLICATE_ENDPOINT"
  | "ERR_ENDPOINT_CONFLICT"
  | "ERR_INVALID_STATE"
  | "ERR_UNKNOWN_PROVIDER"
  | "ERR_PROVIDER_NAME_RESERVED"
  | "ERR_MISSING_SECRETS"
  | "ERR_INVALID_SECRET"
  | "ERR_INVALID_PROVIDER_OPTION"
  | "ERR_NOT_JSON"
  | "ERR_STORAGE"
  | "ERR_STORAGE_BUSY"
  | "ERR_CLOSED"
  | "ERR_CLAIM_LOST"
  | "ERR_ASYNC_HANDLER"
  | "ERR_NO_HANDLER"
  | "ERR_BODY_PARSED";

export class KnockerError extends Error {
  readonly code: KnockerErrorCode;

  constructor(code: KnockerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KnockerError";
    this.code = code;
  }
}

export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT" || code === "SQLITE_LOCKED";
}

/** Wrap a low-level storage failure so callers see one error type with a stable code. */
export function storageError(action: string, error: unknown): KnockerError {
  if (error instanceof KnockerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const code = isBusyError(error) ? "ERR_STORAGE_BUSY" : "ERR_STORAGE";
  return new KnockerError(code, `${action} failed: ${detail}`, { cause: error });
}

/**
 * A line describing what some code threw, for a stored reason or an error message. Whatever was
 * thrown (an object whose toString throws, a message quoting a key), this never throws and never
 * lets one of `secrets` through.
 */
export function describeThrown(thrown: unknown, secrets: readonly string[], maxLength = 200): string {
  let text: string;
  try {
    text = thrown instanceof Error ? String(thrown.message) : String(thrown);
  } catch {
    text = "a value that cannot be turned into text";
  }
  // Longest first: with rotation secrets "k1" and "k1-next", "k1" first would leave "-next" behind.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) text = text.split(secret).join("[redacted]");
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}
