// The demo's own table, demo_log, next to the inbox on either engine: SQLite (the app's
// better-sqlite3 connection, which Knocker writes through too) or Postgres (a pg pool of the
// app's, and a Knocker<"postgres"> whose handlers await tx.query). Every handler of the demo
// records what it did there, in the event's own transaction.
import Database from "better-sqlite3";
import { open, type EngineName, type Event, type HandlerOf, type HandlerTx, type Knocker, type PostgresHandlerTx } from "../src/index.js";

export interface DemoLog {
  webhooks: Knocker<EngineName>;
  /** What the final message names: the file, or the database without its password. */
  where: string;
  /** A transactional handler that writes `summarize(event)` to demo_log with the ack. */
  record(summarize: (event: Event) => string): HandlerOf<EngineName>;
  latest(eventId: number): Promise<{ id: number; summary: string } | undefined>;
  close(): Promise<void>;
}

const COLUMNS = "event_id, endpoint, event_type, summary, handled_at";
const row = (event: Event, summary: string) => [event.id, event.endpoint, event.eventType, summary, Math.floor(Date.now() / 1000)];

export async function openDemoLog(target: string): Promise<DemoLog> {
  return /^postgres(ql)?:\/\//.test(target) ? postgresLog(target) : sqliteLog(target);
}

function sqliteLog(path: string): DemoLog {
  const db = new Database(path);
  const webhooks = open(db);
  db.exec(`CREATE TABLE IF NOT EXISTS demo_log (
    id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, endpoint TEXT NOT NULL, event_type TEXT, summary TEXT NOT NULL,
    handled_at INTEGER NOT NULL)`);
  return {
    webhooks,
    where: `SQLite file ${path}`,
    record: (summarize) => (event: Event, tx: HandlerTx) => {
      tx.run(`INSERT INTO demo_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`, row(event, summarize(event)));
    },
    latest: async (eventId) => db.prepare("SELECT id, summary FROM demo_log WHERE event_id = ? ORDER BY id DESC").get(eventId) as { id: number; summary: string } | undefined,
    close: async () => {
      await webhooks.close();
      db.close();
    },
  };
}

async function postgresLog(url: string): Promise<DemoLog> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query(`CREATE TABLE IF NOT EXISTS public.demo_log (
    id bigserial PRIMARY KEY, event_id bigint NOT NULL, endpoint text NOT NULL, event_type text, summary text NOT NULL,
    handled_at bigint NOT NULL)`);
  const webhooks = open<"postgres">(url);
  const shown = new URL(url);
  if (shown.password) shown.password = "***";
  return {
    webhooks,
    where: `Postgres ${shown.toString()}, schema knocker`,
    record: (summarize) => async (event: Event, tx: PostgresHandlerTx) => {
      await tx.query(`INSERT INTO public.demo_log (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, row(event, summarize(event)));
    },
    latest: async (eventId) => {
      const { rows } = await pool.query<{ id: string; summary: string }>("SELECT id, summary FROM public.demo_log WHERE event_id = $1 ORDER BY id DESC LIMIT 1", [eventId]);
      return rows[0] && { id: Number(rows[0].id), summary: rows[0].summary };
    },
    close: async () => {
      await webhooks.close();
      await pool.end();
    },
  };
}
