// An endpoint's `orderingKey` (CONTRACT §11), evaluated once per valid receipt at ingest. Whatever
// the function does — throw, return a number, a Promise, an empty string — the receipt is stored:
// an unusable key makes the event unordered, and the mistake is reported, never a failed receipt.
import { KnockerError } from "../errors.js";
import type { OrderingKey } from "../interfaces.js";
import type { ProviderRequest } from "../providers/provider.js";
import { hasNul } from "../text/nul.js";
import { isThenable } from "../worker/dispatch-rules.js";

/**
 * Longest key, in UTF-16 code units. A key is one entry of two indexes; Postgres refuses an index
 * entry above ~2.7 kB, and 512 characters stay below it in any encoding.
 */
export const MAX_ORDERING_KEY_LENGTH = 512;

/**
 * The key `fn` gives the receipt `request` (its body parsed at most once, shared with the
 * provider's own json()), or null: no key (`null`/`undefined` returned), or an unusable one,
 * which `report` is told about.
 */
export function orderingKeyOf(fn: OrderingKey, request: ProviderRequest, eventType: string | null, report: (error: unknown) => void): string | null {
  let key: unknown;
  try {
    key = fn({ json: () => request.json(), header: (name: string) => request.header(name), eventType });
  } catch (error) {
    report(error);
    return null;
  }
  if (key === null || key === undefined) return null;
  const problem = unusable(key);
  if (problem === null) return key as string;
  if (isThenable(key)) Promise.resolve(key).catch(() => {}); // its outcome can no longer matter
  report(new KnockerError("ERR_INVALID_ORDERING_KEY", `orderingKey returned ${problem}; the event is stored unordered`));
  return null;
}

function unusable(key: unknown): string | null {
  if (isThenable(key)) return "a Promise: it must return the key synchronously (a string, or null for none)";
  if (typeof key !== "string") return `${typeof key === "object" ? "an object" : `a ${typeof key}`}, not a string (or null for none)`;
  if (key.length === 0) return "an empty string (return null for no key)";
  if (key.length > MAX_ORDERING_KEY_LENGTH) return `a string of ${key.length} characters, more than ${MAX_ORDERING_KEY_LENGTH}`;
  if (hasNul(key)) return "a string with a NUL character (U+0000), which Postgres cannot store";
  return null;
}
