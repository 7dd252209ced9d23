import { createHash, type Hash } from "node:crypto";
import type { CopyTable, Row } from "./tables.js";

/**
 * A table's row count and SHA-256 over a canonical encoding of its rows in key order, the same
 * whichever engine they were read from: per value a tag (null, integer, text, bytes), integers
 * as 8-byte big-endian, text as its UTF-8 bytes and bodies as they are, each with its length.
 */
export class TableDigest {
  rows = 0;
  readonly #hash: Hash = createHash("sha256");

  add(row: Row): void {
    this.rows++;
    for (const value of row) {
      if (value === null) {
        this.#hash.update(TAG.null);
      } else if (typeof value === "number") {
        const bytes = Buffer.alloc(9);
        bytes[0] = 1;
        bytes.writeBigInt64BE(BigInt(value), 1);
        this.#hash.update(bytes);
      } else {
        const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
        const head = Buffer.alloc(5);
        head[0] = typeof value === "string" ? 2 : 3;
        head.writeUInt32BE(bytes.length, 1);
        this.#hash.update(head).update(bytes);
      }
    }
  }

  /** The hex digest (once: the hash is finished). */
  finish(table: CopyTable): { table: string; rows: number; sha256: string } {
    return { table: table.name, rows: this.rows, sha256: this.#hash.digest("hex") };
  }
}

const TAG = { null: Buffer.from([0]) };
