// The engine matrix: one suite, run on every storage engine, the way pg-boss reruns its suite
// per backend. A file calls engineMatrix() once at its top level; each engine opens fresh inboxes
// (a new SQLite file, or a new database on one embedded Postgres server started for the file,
// only when a Postgres test runs).
import { after } from "node:test";
import { open, type Knocker, type OpenOptions } from "../../src/index.js";
import { startPostgres, type TestPostgres } from "./postgres.js";
import { tempDbPath } from "../support.js";

export interface TestEngine {
  name: "sqlite" | "postgres";
  /** A Knocker on a fresh, empty inbox of this engine. */
  open(options?: OpenOptions): Promise<Knocker>;
}

export function engineMatrix(): TestEngine[] {
  let server: Promise<TestPostgres> | undefined;
  after(async () => {
    if (server) await (await server).stop();
  });
  return [
    { name: "sqlite", open: async (options) => open(tempDbPath(), options) },
    {
      name: "postgres",
      open: async (options) => {
        server ??= startPostgres();
        return open(await (await server).createDatabase(), options);
      },
    },
  ];
}
