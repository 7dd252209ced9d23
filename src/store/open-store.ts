import type { EndpointRegistry } from "../endpoints.js";
import { KnockerError } from "../errors.js";
import type { PostgresPool, SqliteDatabase } from "../interfaces.js";
import type { Observer } from "../observer.js";
import type { ResolvedOptions } from "../options.js";
import { isPostgresUrl } from "./postgres/driver.js";
import { isPostgresPool, PostgresStore } from "./postgres/postgres-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

/** The engine open() was given: a postgres:// URL or a pg Pool, else a SQLite file or connection. */
export function openStore(target: string | SqliteDatabase | PostgresPool, options: ResolvedOptions, endpoints: EndpointRegistry, observer: Observer): Store {
  if ((typeof target === "string" && isPostgresUrl(target)) || isPostgresPool(target)) return new PostgresStore(target as string | PostgresPool, options, endpoints, observer);
  if (options.schema !== null) throw new KnockerError("ERR_INVALID_OPTION", 'open() option "schema" applies to a Postgres database only');
  return new SqliteStore(target as string | SqliteDatabase, options, endpoints, observer);
}
