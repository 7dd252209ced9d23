// Shared by the vector generators: writes providers/<name>/<case>.json in the format the
// conformance test (test/provider-vectors.test.ts) reads.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface VectorRequest {
  method?: string;
  headers: Record<string, string | string[]>;
  query?: Record<string, string | string[]>;
  body?: string;
  bodyBase64?: string;
  secrets: string[];
  options?: Record<string, unknown>;
  now: number;
}

export interface VectorExpected {
  valid: boolean;
  errorContains?: string;
  eventType?: string | null;
  providerEventId?: string | null;
  providerDeliveryId?: string | null;
  statusCode?: number;
  reply?: { contentType: string; body: string };
}

export interface Vector {
  description: string;
  request: VectorRequest;
  expected: VectorExpected;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Replace every vector of `provider` with `vectors` (keyed by case name). */
export function writeVectors(provider: string, vectors: Record<string, Vector>): void {
  const dir = join(ROOT, provider);
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) if (file.endsWith(".json")) rmSync(join(dir, file));
  for (const [name, vector] of Object.entries(vectors)) {
    const { method = "POST", headers, query = {}, body, bodyBase64, secrets, options = {}, now } = vector.request;
    const request = { method, headers, query, body, bodyBase64, secrets, options, now };
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ ...vector, request }, null, 2)}\n`);
  }
  console.log(`${provider}: wrote ${Object.keys(vectors).length} vectors to ${dir}`);
}

/** Fail the generator when an oracle disagrees with what a vector claims. */
export function assertOracle(provider: string, name: string, ok: boolean): void {
  if (!ok) throw new Error(`${provider}/${name}: the provider's own package disagrees with this vector`);
}

/** Run `fn` with `Date.now()` pinned to `nowS` (oracles that read the wall clock). */
export function atClock<T>(nowS: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => nowS * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

/** True when `fn` returns true without throwing. */
export function passes(fn: () => unknown): boolean {
  try {
    return fn() === true;
  } catch {
    return false;
  }
}

/** A copy of `headers` without `name` (for missing-header vectors). */
export function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => !names.includes(key)));
}

/** A generic JSON event for the shared-secret schemes (token-header, bearer-token, basic-auth). */
export const GENERIC_EVENT = JSON.stringify({
  id: "evt_01HFA3K9Q8ZJ5N2W7XR4T6YB1C",
  type: "invoice.paid",
  created: 1699999990,
  data: { invoice_id: "inv_8841", customer_id: "cus_512", amount: 4900, currency: "eur" },
});
