// Formatting shared by the pages: times, ages, counts, bodies, and the redaction of credentials
// in stored headers and query strings before they are shown.
import type { HeaderMap, QueryMap } from "../interfaces.js";
import { redactHeaders, redactQuery } from "../ingest/normalize.js";
export { age } from "../text/age.js";

/** Unix seconds → `2025-01-31 12:00:00 UTC`. */
export function utc(seconds: number | null): string {
  if (seconds === null) return "-";
  return `${new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "")} UTC`;
}

/** Unix seconds → ISO 8601, for `<time datetime>`. */
export function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}


export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${count(n)} ${n === 1 ? noun : nouns}`;
}

/** At most `max` characters, cut on code points, with `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * A time filter typed by an operator: a duration back from now (`36h`, `7d`, `90m`), a unix time
 * in seconds, or an ISO date / date-time (UTC unless it names a zone). Null when empty; throws
 * a `RangeError` naming the field when it is none of these.
 */
export function parseTime(text: string | null, field: string, now: number): number | null {
  const value = (text ?? "").trim();
  if (value === "") return null;
  const duration = /^(\d{1,9})([smhdw])$/.exec(value);
  if (duration) return Math.max(0, now - Number(duration[1]) * { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[duration[2] as "s"]);
  if (/^\d{1,12}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(value) || value.length === 10 ? value : `${value}Z`;
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : zoned.replace(" ", "T"));
    if (Number.isFinite(ms) && ms >= 0) return Math.floor(ms / 1000);
  }
  throw new RangeError(`${field}: expected a duration back from now (36h, 7d), a unix time or an ISO date, got ${JSON.stringify(truncate(value, 40))}`);
}

/**
 * Header names whose values are credentials in any provider's or app's hands. Knocker never
 * stores `authorization`, `proxy-authorization` or `cookie` values, nor a registered provider's
 * secret headers (src/ingest/normalize.ts); rows written by `ingest()`, another binding or an
 * endpoint registered in another process may still carry others, so the dashboard redacts again.
 */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey"];
const CREDENTIAL_NAME = /(?:^|[-_.])(?:secret|token|password|passwd|pwd|api-?key|apikey|auth|credentials?|session)(?:$|[-_.])/i;

export interface SecretNames {
  headers: readonly string[];
  query: readonly string[];
}

/** Stored headers with every credential value replaced by `[redacted]` (the ingest's own redaction, widened). */
export function displayHeaders(headers: HeaderMap, secrets: SecretNames): HeaderMap {
  // Names are stored as received (any case): match them lower-cased, redact them as stored.
  const secret = (name: string) => {
    const lower = name.toLowerCase();
    return CREDENTIAL_HEADERS.includes(lower) || secrets.headers.includes(lower) || CREDENTIAL_NAME.test(name);
  };
  return redactHeaders(headers, Object.keys(headers).filter(secret));
}

export function displayQuery(query: QueryMap, secrets: SecretNames): QueryMap {
  const names = Object.keys(query).filter((name) => CREDENTIAL_NAME.test(name) || secrets.query.includes(name));
  return redactQuery(query, names);
}

/** Bytes of a body shown on a page; the raw download has all of it. */
export const BODY_PREVIEW_BYTES = 256 * 1024;

export interface BodyView {
  /** What is shown: pretty-printed JSON, UTF-8 text, or a hex dump. */
  text: string;
  kind: "json" | "text" | "binary" | "empty";
  /** The view holds only the first BODY_PREVIEW_BYTES. */
  cut: boolean;
}

/** A body as text for a `<pre>`: JSON pretty-printed, else UTF-8, else hex; never interpreted. */
export function bodyView(body: Buffer): BodyView {
  if (body.length === 0) return { text: "", kind: "empty", cut: false };
  const cut = body.length > BODY_PREVIEW_BYTES;
  const head = cut ? body.subarray(0, BODY_PREVIEW_BYTES) : body;
  const utf8 = head.toString("utf8");
  if (!cut) {
    try {
      return { text: JSON.stringify(JSON.parse(utf8), null, 2), kind: "json", cut };
    } catch {
      // not JSON: shown as text below
    }
  }
  if (!utf8.includes("\ufffd") || Buffer.from(utf8, "utf8").equals(head)) return { text: utf8, kind: "text", cut };
  const lines: string[] = [];
  for (let at = 0; at < Math.min(head.length, 16 * 1024); at += 16) {
    const row = head.subarray(at, at + 16);
    lines.push(`${at.toString(16).padStart(8, "0")}  ${[...row].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`);
  }
  return { text: lines.join("\n"), kind: "binary", cut: cut || head.length > 16 * 1024 };
}
