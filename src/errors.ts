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
  | "ERR_HANDLER_TIMEOUT"
  | "ERR_INVALID_HANDLER_RESULT"
  | "ERR_SHUTDOWN"
  | "ERR_NO_HANDLER"
  | "ERR_BODY_PARSED"
  | "ERR_DEPENDENCY_MISSING"
  | "ERR_NOT_SUPPORTED"
  | "ERR_INVALID_ORDERING_KEY";

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

/** Derived forms of a secret shorter than this are not redacted (they would match ordinary text). */
const MIN_FORM_LENGTH = 4;

interface SecretForm {
  text: string;
  /** Match regardless of letter case (the literal, its JSON escape, hex); base64 is case-sensitive. */
  anyCase: boolean;
}

/**
 * The ways a secret can show up in a message: as is (any letter case), JSON-escaped, as hex of
 * its UTF-8 bytes (lower or upper case), and as base64 (padded or not) or base64url of those
 * bytes. The literal itself is always redacted exactly; the derived forms only from
 * MIN_FORM_LENGTH characters.
 */
function secretForms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms: SecretForm[] = [{ text: secret, anyCase: false }];
  const derived: SecretForm[] = [];
  // toUpperCase/toLowerCase can change more than case folding matches (ß → SS), so each is a form.
  for (const variant of new Set([secret, secret.toLowerCase(), secret.toUpperCase()])) {
    const json = JSON.stringify(variant).slice(1, -1);
    derived.push(
      { text: variant, anyCase: true },
      { text: json, anyCase: true },
      // JSON written ASCII-only (non-ASCII as \uXXXX), as some encoders do.
      { text: json.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`), anyCase: true },
    );
  }
  derived.push(
    { text: bytes.toString("hex"), anyCase: true },
    { text: bytes.toString("base64"), anyCase: false },
    { text: bytes.toString("base64").replace(/=+$/, ""), anyCase: false },
    { text: bytes.toString("base64url"), anyCase: false },
  );
  const seen = new Set<string>();
  for (const form of derived) {
    const key = `${form.anyCase}:${form.text}`;
    if (form.text.length >= MIN_FORM_LENGTH && !seen.has(key)) {
      seen.add(key);
      forms.push(form);
    }
  }
  return forms;
}

const REDACTED_TEXT = "[redacted]";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function redactForm(text: string, form: SecretForm): string {
  if (!form.anyCase) return text.split(form.text).join(REDACTED_TEXT);
  let pattern: RegExp;
  try {
    pattern = new RegExp(escapeRegExp(form.text), "giu"); // Unicode case folding
  } catch {
    pattern = new RegExp(escapeRegExp(form.text), "gi");
  }
  return text.replace(pattern, REDACTED_TEXT);
}

/** `text` with every form of every secret replaced by `[redacted]`, longest form first. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = secrets.filter((secret) => typeof secret === "string" && secret.length > 0).flatMap(secretForms);
  // Longest first: with rotation secrets "k1" and "k1-next", "k1" first would leave "-next" behind;
  // and a form must go before any shorter form that occurs inside it.
  forms.sort((a, b) => b.text.length - a.text.length || Number(a.anyCase) - Number(b.anyCase));
  let out = text;
  for (const form of forms) out = redactForm(out, form);
  return out;
}

/**
 * A line describing what some code threw, for a stored reason or an error message. Whatever was
 * thrown (an object whose toString throws, a message quoting a key), this never throws and never
 * lets one of `secrets` through, in any of the forms `redactSecrets` knows.
 */
export function describeThrown(thrown: unknown, secrets: readonly string[], maxLength = 200): string {
  let text: string;
  try {
    text = thrown instanceof Error ? String(thrown.message) : String(thrown);
  } catch {
    text = "a value that cannot be turned into text";
  }
  text = redactSecrets(text, secrets);
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}
