import { createHash } from "node:crypto";

/**
 * A request body as the chunks it arrived in. It is joined into one Buffer only when something
 * needs it whole (a valid receipt is stored, a provider reads it): a refused 3 MB body is
 * never copied, only its first bytes are.
 */
export class RawBody {
  static readonly EMPTY = RawBody.of(Buffer.alloc(0));

  readonly length: number;
  #chunks: readonly Uint8Array[];
  #whole: Buffer | undefined;

  /** `chunks` must not change afterwards (nobody else holds them). */
  constructor(chunks: readonly Uint8Array[], length: number) {
    this.#chunks = chunks;
    this.length = length;
  }

  static of(buffer: Buffer): RawBody {
    const body = new RawBody([buffer], buffer.length);
    body.#whole = buffer;
    return body;
  }

  whole(): Buffer {
    if (this.#whole === undefined) {
      const only = this.#chunks.length === 1 ? this.#chunks[0]! : null;
      this.#whole = only !== null ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(this.#chunks, this.length);
      this.#chunks = [this.#whole];
    }
    return this.#whole;
  }

  /** A copy of the first `bytes` bytes (all of it when shorter). */
  head(bytes: number): Buffer {
    const out = Buffer.allocUnsafe(Math.min(bytes, this.length));
    let at = 0;
    for (const chunk of this.#chunks) {
      if (at === out.length) break;
      const take = Math.min(chunk.byteLength, out.length - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
    }
    return out;
  }

  sha256(): string {
    const hash = createHash("sha256");
    for (const chunk of this.#chunks) hash.update(chunk);
    return hash.digest("hex");
  }
}
