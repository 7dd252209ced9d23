// node-postgres is an optional peer dependency: it is loaded the first time a Postgres inbox is
// opened, so an app on SQLite installs one runtime dependency. `pg` is CommonJS, so it loads
// synchronously and `open()` can stay synchronous.
import { createRequire } from "node:module";
import type * as Pg from "pg";
import { KnockerError } from "../../errors.js";

export type PgModule = typeof Pg;
export type PgPool = Pg.Pool;
export type PgClient = Pg.PoolClient;
/** The part of the module Knocker reads its type parsers from (the default export has it too). */
export type PgTypes = Pick<PgModule, "types">;

let loaded: PgModule | undefined;

/** The app's `pg`, resolved from where Knocker is installed. */
export function loadPg(): PgModule {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)("pg") as PgModule;
  } catch (error) {
    throw new KnockerError(
      "ERR_DEPENDENCY_MISSING",
      'the Postgres engine needs the "pg" package (node-postgres), an optional peer dependency of knocker: npm install pg',
      { cause: error },
    );
  }
  return loaded;
}

/** Whether `target` names a Postgres database rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(target);
}
