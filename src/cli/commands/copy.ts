import { resolve } from "node:path";
import { copyTables, verifyTables, type TableCheck, type TableSink, type TableSource } from "../../store/copy/copy-inbox.js";
import { COPY_TABLES } from "../../store/copy/tables.js";
import { PgTableSink, PgTableSource } from "../../store/postgres/copy-io.js";
import { isPostgresUrl } from "../../store/postgres/driver.js";
import { SqliteTableSink, SqliteTableSource } from "../../store/sqlite/copy-io.js";
import { Refusal, stringOption, UsageError } from "../args.js";
import type { Command, Context } from "../command.js";
import { probePostgres, probeSqlite, requireInbox, schemaChoice } from "../database.js";
import { plural, table } from "../format.js";
import { inboxTarget, type InboxTarget, type SchemaChoice } from "../targets.js";
import { ProgressBar } from "../terminal.js";

/** How many hex digits of each table's SHA-256 the human table shows (--json has them all). */
const SHOWN_DIGITS = 16;

export const copyCommand: Command = {
  name: "copy",
  summary: "Copy a whole inbox into a new SQLite file or Postgres schema (ids kept), then verify it table by table.",
  usage: "--from SOURCE --to TARGET [--from-schema NAME] [--to-schema NAME]",
  details:
    "SOURCE and TARGET are each a SQLite file or a postgres:// URL, so the copy runs in either direction\n" +
    "(and SQLite to SQLite, Postgres to Postgres). Every table moves with its ids: endpoints, events,\n" +
    "deliveries, attempts, prune audits, dropped-rejection counts, live and dead jobs, locks and\n" +
    "scheduler tasks; the target's id counters continue after the source's. The source is read in one\n" +
    "snapshot and never changed. The target is new: a SQLite file that does not exist yet, or a schema\n" +
    "that does not exist yet or holds no Knocker rows; it is written in one transaction, so a failed\n" +
    "copy leaves nothing behind. Then both sides are read back: per table, the row count and a SHA-256\n" +
    "of every row (bodies byte for byte); any difference exits 1. Stop the app's workers first: what\n" +
    "they commit after the snapshot is not copied.\n" +
    "Example: knocker copy --from app.db --to postgres://app@db.internal:5432/app",
  options: {
    from: { type: "string", value: "PATH|URL", description: "the inbox to copy: a SQLite file or a postgres:// URL" },
    to: { type: "string", value: "PATH|URL", description: "the new inbox: a SQLite file that does not exist, or a postgres:// URL" },
    "from-schema": { type: "string", value: "NAME", description: "the source's Postgres schema (default: --schema, $KNOCKER_SCHEMA, then knocker)" },
    "to-schema": { type: "string", value: "NAME", description: "the target's Postgres schema (default: --schema, $KNOCKER_SCHEMA, then knocker)" },
  },
  positionals: [],
  async run(context) {
    const { from, to } = copyTargets(context);
    const source = await openSource(from);
    let verified: Awaited<ReturnType<typeof verifyTables>>;
    let rows = 0;
    try {
      if (source.otherTables.length > 0) {
        context.err(`knocker: warning: not copied: ${source.otherTables.join(", ")} (${plural(source.otherTables.length, "table")} of ${from.label} that ${source.otherTables.length === 1 ? "is" : "are"} not Knocker's)\n`);
      }
      let total = 0;
      for (const t of COPY_TABLES) total += await source.count(t);
      // From here on, copyTables() commits the sink or aborts it.
      const sink = await openSink(to);
      const progress = new ProgressBar("copy", total);
      try {
        await copyTables(source, sink, (n) => {
          rows += n;
          progress.tick(n);
        });
      } finally {
        progress.finish();
      }
      const readBack = await openReadBack(to);
      try {
        verified = await verifyTables(source, readBack);
      } finally {
        await readBack.close();
      }
    } finally {
      await source.close();
    }

    const mismatched = verified.tables.filter((check) => !check.match).map((check) => check.table);
    const ok = mismatched.length === 0 && verified.countersBehind.length === 0;
    if (context.json) {
      context.printJson({ from: from.label, to: to.label, rows, tables: verified.tables, countersBehind: verified.countersBehind, verified: ok });
    } else {
      context.out(
        [
          `Copied ${from.label} to ${to.label}: ${plural(rows, "row")} in ${plural(COPY_TABLES.length, "table")}.`,
          "",
          checkTable(verified.tables).trimEnd(),
          "",
          ok ? "Verified: every table has the same rows on both sides (row count and SHA-256 of every row, read back)." : "Verification FAILED.",
          "",
        ].join("\n"),
      );
    }
    if (!ok) {
      const what = [
        mismatched.length > 0 && `${mismatched.join(", ")} differ${mismatched.length === 1 ? "s" : ""}`,
        verified.countersBehind.length > 0 && `the id counters of ${verified.countersBehind.join(", ")} are behind the source's`,
      ].filter(Boolean).join("; ");
      throw new Refusal(`verification failed: ${what} between ${from.label} and ${to.label}; do not use the copy`);
    }
    return 0;
  },
};

interface CopyTargets {
  from: InboxTarget;
  to: InboxTarget;
}

/** --from, --to and their schemas; the two must name different inboxes. */
function copyTargets(context: Context): CopyTargets {
  const { values } = context;
  if (stringOption(values, "db") !== undefined) throw new UsageError("copy takes --from SOURCE and --to TARGET, not --db");
  const fromValue = stringOption(values, "from");
  const toValue = stringOption(values, "to");
  if (fromValue === undefined || toValue === undefined) throw new UsageError("copy needs --from SOURCE and --to TARGET (a SQLite file or a postgres:// URL each)");
  const shared = schemaChoice(values, context.env);
  if (shared !== undefined && !isPostgresUrl(fromValue) && !isPostgresUrl(toValue)) {
    throw new UsageError(`${shared.from} applies to a Postgres database (postgres://…) only; --from and --to are SQLite files`);
  }
  const side = (value: string, option: string, own: string): InboxTarget => {
    const given = stringOption(values, own);
    const schema: SchemaChoice | undefined = given !== undefined ? { name: given, from: `--${own}` } : isPostgresUrl(value) ? shared : undefined;
    return inboxTarget(value, option, schema);
  };
  const from = side(fromValue, "--from", "from-schema");
  const to = side(toValue, "--to", "to-schema");
  const same = from.engine === "sqlite" && to.engine === "sqlite"
    ? resolve(from.path) === resolve(to.path)
    : from.engine === "postgres" && to.engine === "postgres" && from.database === to.database && from.schema === to.schema;
  if (same) throw new UsageError(`--from and --to name the same inbox (${to.label}); copy it to a new file or schema`);
  return { from, to };
}

async function openSource(target: InboxTarget): Promise<TableSource & { otherTables: string[] }> {
  if (target.engine === "sqlite") {
    probeSqlite(target.path, "pass --from PATH");
    return new SqliteTableSource(target.path);
  }
  requireInbox(target, await probePostgres(target, "check --from"), "pass --from-schema NAME or --schema NAME");
  return PgTableSource.open(target);
}

function openSink(target: InboxTarget): Promise<TableSink> | TableSink {
  return target.engine === "sqlite" ? new SqliteTableSink(target.path) : PgTableSink.open(target);
}

async function openReadBack(target: InboxTarget): Promise<TableSource> {
  return target.engine === "sqlite" ? new SqliteTableSource(target.path) : PgTableSource.open(target);
}

function checkTable(checks: readonly TableCheck[]): string {
  const short = (sha256: string) => sha256.slice(0, SHOWN_DIGITS);
  const rows = checks.map((check) => [
    check.table, String(check.source.rows), String(check.target.rows), short(check.source.sha256), short(check.target.sha256), check.match ? "ok" : "MISMATCH",
  ]);
  return table(["TABLE", "SOURCE ROWS", "TARGET ROWS", "SOURCE SHA-256", "TARGET SHA-256", "CHECK"], rows, ["SOURCE ROWS", "TARGET ROWS"]);
}
