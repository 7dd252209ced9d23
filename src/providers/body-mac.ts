import { createHmac, type Hmac } from "node:crypto";

export type MacAlgorithm = "sha1" | "sha256" | "sha512";

/**
 * One HMAC a provider computes over `prefix || body`, known from the headers alone. The HTTP
 * layer starts it before the body is read and feeds it each chunk as it arrives, so a large
 * body is hashed in small steps between other requests instead of in one long block after.
 */
export interface BodyMac {
  algorithm: MacAlgorithm;
  key: string | Buffer;
  /** Signed text before the body (Stripe: `"<t>."`); "" when the body alone is signed. */
  prefix: string;
}

/** HMAC of `data` (its parts, in order) under `key`, as raw bytes. */
export function hmac(algorithm: MacAlgorithm, key: string | Buffer, ...data: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of data) mac.update(part);
  return mac.digest();
}

/** Digests computed while the body streamed in, by `bodyMacId`. */
export type StreamedMacs = ReadonlyMap<string, Buffer>;

/** An unambiguous name for a BodyMac (it holds the key: kept in memory only, never shown). */
export function bodyMacId({ algorithm, key, prefix }: BodyMac): string {
  const keyText = typeof key === "string" ? `s${key.length}:${key}` : `b${key.length}:${key.toString("hex")}`;
  return `${algorithm}|${keyText}|${prefix}`;
}

/** HMACs fed chunk by chunk; `finish()` once the whole body went through `update()`. */
export class BodyMacStream {
  readonly #running: Array<{ id: string; mac: Hmac }> = [];

  constructor(macs: readonly BodyMac[]) {
    const seen = new Set<string>();
    for (const spec of macs) {
      const id = bodyMacId(spec);
      if (seen.has(id)) continue;
      seen.add(id);
      const mac = createHmac(spec.algorithm, spec.key);
      if (spec.prefix !== "") mac.update(spec.prefix, "utf8");
      this.#running.push({ id, mac });
    }
  }

  update(chunk: Uint8Array): void {
    for (const { mac } of this.#running) mac.update(chunk);
  }

  finish(): StreamedMacs {
    return new Map(this.#running.map(({ id, mac }) => [id, mac.digest()]));
  }
}
