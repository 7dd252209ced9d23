// The `knocker` bin's actions (replay, requeue, ignore — one id and in bulk —, replay-delivery,
// prune): the built bin as a child process against a real inbox, on every engine (a SQLite file,
// or a Postgres database through --db postgres://…), while an app process may hold it open.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, describe, test } from "node:test";
import { open, type Knocker } from "../src/index.js";
import { ProgressBar } from "../src/cli/terminal.js";
import { BIN, buildBin, DAY, fails, knocker, ok, okJson, seedInbox } from "./support/cli.js";
import { engineMatrix, type TableRead, type TestEngine } from "./support/engines.js";
import { drain } from "./support.js";

const engines = engineMatrix();

before(() => buildBin());

/** Read the tables the way an outside tool would (a connection of its own). */
const statusOf = async (sql: TableRead, id: number) => (await sql.all<{ status: string }>("SELECT status FROM knocker_events WHERE id = ?", id))[0]?.status;
const jobsOf = async (sql: TableRead, id: number) =>
  (await sql.all<{ queue: string; payload: string; max_attempts: number }>("SELECT queue, payload, max_attempts FROM _honker_live ORDER BY id"))
    .filter((job) => (JSON.parse(job.payload) as { event_id?: number }).event_id === id);
const idsOf = async (sql: TableRead, text: string) => (await sql.all<{ id: number }>(text)).map((row) => row.id);

/** An inbox with `count` dead events on `deadletters` (no handler) and one dead event on `other`. */
async function deadInbox(engine: TestEngine, count: number): Promise<{ db: string; sql: TableRead; dead: number[]; other: number }> {
  const { db, sql } = await engine.location();
  const webhooks = open(db, { maxAttempts: 1 });
  try {
    webhooks.endpoint("deadletters", { path: "/dl" });
    webhooks.endpoint("other", { path: "/other" });
    const dead: number[] = [];
    for (let i = 0; i < count; i++) dead.push((await webhooks.ingest({ endpoint: "deadletters", body: `{"n":${i}}`, eventType: "t" })).eventId!);
    const other = (await webhooks.ingest({ endpoint: "other", body: "{}", eventType: "t" })).eventId!;
    await drain(webhooks, async () => (await webhooks.listEvents({ status: "dead", limit: 1000 })).length === count + 1);
    return { db, sql, dead, other };
  } finally {
    await webhooks.close();
  }
}

type BulkJson = { action: string; matched: number; changed: number[]; refused: Array<{ id: number; reason: string }> };

for (const engine of engines) {
  describe(engine.name, () => {
    test("replay / requeue / ignore one event: the transition, its job, and the app's worker running it again", async () => {
      const { db, sql } = await engine.location();
      const { events } = await seedInbox(db);

      assert.equal(
        await ok(["replay", String(events.handled), "--db", db]),
        `replayed event ${events.handled} (stripe): handled → received; the app's worker runs it again\n`,
      );
      assert.equal(await statusOf(sql, events.handled), "received");
      assert.deepEqual((await jobsOf(sql, events.handled)).map((j) => [j.queue, JSON.parse(j.payload), j.max_attempts]), [
        ["knocker.events", { event_id: events.handled }, 3],
      ]);

      assert.deepEqual(await okJson(["requeue", String(events.dead), "--db", db, "--max-attempts", "5"]), {
        action: "requeue", id: events.dead, from: "dead", to: "received", changed: true,
      });
      assert.equal((await jobsOf(sql, events.dead))[0]!.max_attempts, 5);

      assert.equal(await ok(["ignore", String(events.received), "--db", db]), `ignored event ${events.received} (orders): received → ignored; its handler will not run\n`);
      assert.equal(await ok(["ignore", String(events.received), "--db", db]), `event ${events.received} is already ignored; nothing changed\n`);
      assert.deepEqual(await okJson(["ignore", String(events.received), "--db", db]), {
        action: "ignore", id: events.received, from: "ignored", to: "ignored", changed: false,
      });

      // The app (this process) runs its worker on the same file: the replayed event is handled again.
      const app = open(db);
      try {
        app.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_cli_tests"] }).handle(() => {});
        app.endpoint("orders", { path: "/orders" }).handle(() => {});
        await drain(app, async () => (await app.getEvent(events.handled))!.status === "handled" && (await app.getEvent(events.dead))!.status === "handled");
        assert.deepEqual((await app.listAttempts(events.handled)).map((a) => a.outcome), ["handled", "handled"]);
        assert.deepEqual((await app.listAttempts(events.dead)).map((a) => a.outcome), ["handled", "dead"]);
      } finally {
        await app.close();
      }
    });

    test("refusals exit 1 with the reason and change nothing", async () => {
      const { db, sql } = await engine.location();
      const { events } = await seedInbox(db);
      assert.equal(
        await fails(1, ["replay", String(events.received), "--db", db]),
        `knocker: cannot replay event ${events.received}: its status is "received"; replay accepts handled, failed, dead, ignored`,
      );
      assert.equal(
        await fails(1, ["requeue", String(events.handled), "--db", db]),
        `knocker: cannot requeue event ${events.handled}: its status is "handled"; requeue accepts failed, dead, ignored`,
      );
      assert.equal(
        await fails(1, ["ignore", String(events.handled), "--db", db]),
        `knocker: cannot ignore event ${events.handled}: its status is "handled"; ignore accepts received, failed, dead`,
      );
      assert.equal(await fails(1, ["replay", "999", "--db", db]), "knocker: no event with id 999");
      assert.equal(await statusOf(sql, events.received), "received");
      assert.equal(await statusOf(sql, events.handled), "handled");
      assert.deepEqual((await jobsOf(sql, events.handled)), []);

      assert.equal(await fails(2, ["replay", "--db", db]), "knocker: replay needs an event id, or --status, --endpoint or --type to select events in bulk");
      assert.equal(await fails(2, ["replay", "3", "--status", "dead", "--db", db]), "knocker: give an event id or --status, not both");
      assert.equal(await fails(2, ["replay", "0", "--db", db]), 'knocker: event id must be a positive integer, got "0"');
    });

    test("replay-delivery: the event runs again with that delivery's payload; orphans are refused", async () => {
      const { db, sql } = await engine.location();
      const { events, deliveries } = await seedInbox(db);
      assert.equal(
        await ok(["replay-delivery", String(deliveries.duplicate), "--db", db]),
        `replayed delivery ${deliveries.duplicate} of event ${events.handled} (stripe): handled → received; the app's worker runs it with this delivery's payload\n`,
      );
      assert.deepEqual((await jobsOf(sql, events.handled)).map((j) => JSON.parse(j.payload)), [{ event_id: events.handled, delivery_id: deliveries.duplicate }]);

      const app = open(db);
      let seen: number | null = null;
      try {
        app.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_cli_tests"] }).handle((event) => (seen = event.deliveryId));
        app.endpoint("orders", { path: "/orders" });
        await drain(app, async () => (await app.getEvent(events.handled))!.status === "handled");
      } finally {
        await app.close();
      }
      assert.equal(seen, deliveries.duplicate);

      assert.deepEqual(await okJson(["replay-delivery", String(deliveries.handled), "--db", db]), {
        action: "replay-delivery", deliveryId: deliveries.handled, eventId: events.handled, from: "handled", to: "received",
      });
      assert.match(await fails(1, ["replay-delivery", String(deliveries.invalid), "--db", db]), new RegExp(`^knocker: delivery ${deliveries.invalid} is not linked to an event`));
      assert.equal(await fails(1, ["replay-delivery", "999", "--db", db]), "knocker: no delivery with id 999");
    });

    test("bulk: a confirmation prompt (no = exit 1, nothing changed), yes, --yes, --json; other endpoints untouched", async () => {
      const { db, sql, dead, other } = await deadInbox(engine, 30);
      const args = ["ignore", "--status", "dead", "--endpoint", "deadletters", "--db", db];

      const declined = await knocker(args, { stdin: "n\n" });
      assert.equal(declined.code, 1);
      assert.equal(declined.stdout, "");
      assert.equal(declined.stderr, "Ignore 30 events (status dead, endpoint deadletters)? [y/N] \nknocker: cancelled: nothing changed\n");
      const noAnswer = await knocker(args);
      assert.equal(noAnswer.code, 1, "end of input is a no");
      assert.equal((await idsOf(sql, "SELECT id FROM knocker_events WHERE status = 'ignored'")).length, 0);

      const accepted = await knocker(args, { stdin: "y\n" });
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.equal(accepted.stdout, "ignored 30 events; their handlers will not run\n");
      // stderr is a pipe here: the prompt, and no progress bar.
      assert.equal(accepted.stderr, "Ignore 30 events (status dead, endpoint deadletters)? [y/N] \n");
      assert.deepEqual(await idsOf(sql, "SELECT id FROM knocker_events WHERE status = 'ignored' ORDER BY id"), dead);
      assert.equal(await statusOf(sql, other), "dead");

      const requeued = await okJson<{ action: string; matched: number; changed: number[]; refused: unknown[] }>([
        "requeue", "--status", "ignored", "--endpoint", "deadletters", "--limit", "10", "--yes", "--db", db,
      ]);
      assert.deepEqual(requeued, { action: "requeue", matched: 10, changed: dead.slice(0, 10), refused: [] });
      assert.equal(await ok(["replay", "--status", "handled", "--yes", "--db", db]), "No events match; nothing changed.\n");

      // Many refusals: ten reasons, then a count.
      await ok(["ignore", "--endpoint", "deadletters", "--yes", "--db", db]);
      assert.equal(await ok(["replay", "--endpoint", "deadletters", "--yes", "--db", db]), "replayed 30 events; the app's worker runs them again\n");
      const refusedAll = await knocker(["replay", "--endpoint", "deadletters", "--yes", "--db", db]);
      assert.equal(refusedAll.code, 1);
      assert.equal(refusedAll.stdout, "replayed 0 of 30 events\n");
      const lines = refusedAll.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 11);
      assert.equal(lines[0], `knocker: refused: cannot replay event ${dead[0]}: its status is "received"; replay accepts handled, failed, dead, ignored`);
      assert.equal(lines[10], "knocker: … and 20 more refused (--json lists them all)");
      assert.equal(
        await fails(1, ["replay", "--status", "received", "--yes", "--db", db]),
        "knocker: replay accepts events whose status is handled, failed, dead, ignored; --status received selects none it can change",
      );
    });

    test("replay --json: one id, a refused one (exit 1, one line on stderr, nothing on stdout), and in bulk", async () => {
      const { db, sql } = await engine.location();
      const { events } = await seedInbox(db);
      assert.deepEqual(await okJson(["replay", String(events.handled), "--db", db]), {
        action: "replay", id: events.handled, from: "handled", to: "received", changed: true,
      });
      assert.equal(await statusOf(sql, events.handled), "received");
      assert.equal(
        await fails(1, ["replay", String(events.received), "--json", "--db", db]),
        `knocker: cannot replay event ${events.received}: its status is "received"; replay accepts handled, failed, dead, ignored`,
      );
      assert.equal(await fails(1, ["replay", "999", "--json", "--db", db]), "knocker: no event with id 999");
      assert.equal(await fails(2, ["replay", "0", "--json", "--db", db]), 'knocker: event id must be a positive integer, got "0"');
      assert.equal(await statusOf(sql, events.received), "received");

      const { db: bulkDb, sql: bulkSql, dead, other } = await deadInbox(engine, 4);
      const bulk = ["replay", "--status", "dead", "--endpoint", "deadletters", "--yes", "--db", bulkDb];
      // Every matching event, oldest first; the other endpoint's dead event is not selected.
      assert.deepEqual(await okJson<BulkJson>(bulk), {
        action: "replay", matched: 4, changed: dead, refused: [],
      });
      assert.deepEqual(await Promise.all(dead.map((id) => statusOf(bulkSql, id))), ["received", "received", "received", "received"]);
      assert.equal(await statusOf(bulkSql, other), "dead");
      assert.deepEqual(await okJson<BulkJson>(bulk), { action: "replay", matched: 0, changed: [], refused: [] });

      // Selected by endpoint, all four are now received: each is refused with its reason, exit 1,
      // the whole result on stdout and one summary line on stderr.
      const refused = await knocker(["replay", "--endpoint", "deadletters", "--yes", "--json", "--db", bulkDb]);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, 'knocker: 4 of 4 events refused (see "refused")\n');
      assert.deepEqual(JSON.parse(refused.stdout), {
        action: "replay", matched: 4, changed: [],
        refused: dead.map((id) => ({ id, reason: `cannot replay event ${id}: its status is "received"; replay accepts handled, failed, dead, ignored` })),
      });
      // A --status replay can never change, and a declined prompt: exit 1, nothing on stdout.
      assert.equal(
        await fails(1, ["replay", "--status", "received", "--yes", "--json", "--db", bulkDb]),
        "knocker: replay accepts events whose status is handled, failed, dead, ignored; --status received selects none it can change",
      );
      const declined = await knocker(["replay", "--status", "dead", "--json", "--db", bulkDb], { stdin: "no\n" });
      assert.deepEqual([declined.code, declined.stdout, declined.stderr], [1, "", "Replay 1 event (status dead)? [y/N] \nknocker: cancelled: nothing changed\n"]);
      assert.equal(await statusOf(bulkSql, other), "dead");
    });

    test("bulk: events that cannot take the action are refused one by one (exit 1), the rest are changed", async () => {
      const { db, sql, dead, other } = await deadInbox(engine, 3);
      const app = open(db);
      app.endpoint("deadletters", { path: "/dl" });
      app.endpoint("other", { path: "/other" });
      await app.ignore(dead[1]!);
      await app.close();
      // --endpoint without --status selects events in any state: the dead and the ignored ones can be requeued…
      assert.equal(await ok(["requeue", "--endpoint", "deadletters", "--yes", "--db", db]), "requeued 3 events; the app's worker runs them again\n");
      // … and once they are all received, each one is refused with its reason.
      const again = await knocker(["requeue", "--endpoint", "deadletters", "--yes", "--db", db]);
      assert.equal(again.code, 1);
      assert.equal(again.stdout, "requeued 0 of 3 events\n");
      assert.deepEqual(again.stderr.trimEnd().split("\n"), dead.map((id) => `knocker: refused: cannot requeue event ${id}: its status is "received"; requeue accepts failed, dead, ignored`));
      const json = await knocker(["requeue", "--type", "t", "--yes", "--json", "--db", db]);
      assert.equal(json.code, 1);
      assert.equal(json.stderr, 'knocker: 3 of 4 events refused (see "refused")\n');
      const result = JSON.parse(json.stdout) as { matched: number; changed: number[]; refused: Array<{ id: number; reason: string }> };
      assert.deepEqual([result.matched, result.changed, result.refused.map((r) => r.id)], [4, [other], dead]);
    });

    test("bulk: a progress bar on stderr when it is a terminal", async () => {
      const { db, sql } = await deadInbox(engine, 40);
      // `script` gives the child a pseudo-terminal; its output (stdout and stderr together) lands here.
      const command = [process.execPath, BIN, "replay", "--status", "dead", "--endpoint", "deadletters", "--yes", "--db", db].map((arg) => `'${arg}'`).join(" ");
      const run = spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", timeout: 30_000 });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /\rreplay \[#{30}\] 40\/40 100%\r?\n/);
      assert.match(run.stdout, /replayed 40 events; the app's worker runs them again/);
      assert.equal((await idsOf(sql, "SELECT id FROM knocker_events WHERE status = 'received'")).length, 40);
    });

    test("bulk actions use the app's queue name (--queue / $KNOCKER_QUEUE)", async () => {
      const { db, sql, dead } = await deadInbox(engine, 2);
      await ok(["replay", String(dead[0]), "--db", db, "--queue", "billing.events"]);
      await ok(["replay", String(dead[1]), "--db", db], { env: { KNOCKER_QUEUE: "env.events", KNOCKER_MAX_ATTEMPTS: "7" } });
      assert.deepEqual((await jobsOf(sql, dead[0]!)).map((j) => j.queue), ["billing.events"]);
      assert.deepEqual((await jobsOf(sql, dead[1]!)).map((j) => [j.queue, j.max_attempts]), [["env.events", 7]]);
    });

    test("an app holding the file open with a running worker handles what the CLI replays", async () => {
      const { db, sql, dead } = await deadInbox(engine, 5);
      const app: Knocker = open(db);
      const handled: number[] = [];
      app.endpoint("deadletters", { path: "/dl" }).handle((event) => void handled.push(event.id));
      app.endpoint("other", { path: "/other" });
      const stop = new AbortController();
      const worker = app.runWorker({ signal: stop.signal });
      try {
        assert.equal(await ok(["replay", "--status", "dead", "--endpoint", "deadletters", "--yes", "--db", db]), "replayed 5 events; the app's worker runs them again\n");
        const deadline = Date.now() + 10_000;
        while (handled.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(handled.sort((a, b) => a - b), dead);
      } finally {
        stop.abort();
        await worker;
        await app.close();
      }
    });

    test("prune events / orphans --yes: old rows only, the counts, an audit row; usage errors", async () => {
      const { db, sql } = await engine.location();
      const { events, deliveries, now } = await seedInbox(db);
      const pruned = await ok(["prune", "events", "--older-than", "7d", "--yes", "--db", db]);
      assert.match(pruned, /^pruned 1 event \(handled\/ignored\) received before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, with 1 delivery, 1 attempt and 0 live jobs\n$/);
      assert.equal(await statusOf(sql, events.oldHandled), undefined);
      assert.equal(await statusOf(sql, events.handled), "handled");

      const again = await okJson<Record<string, unknown>>(["prune", "events", "--older-than", "36h", "--status", "ignored", "--limit", "5", "--yes", "--db", db]);
      assert.deepEqual({ ...again, olderThan: typeof again.olderThan }, {
        kind: "events", olderThan: "number", limit: 5, statuses: ["ignored"], eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0,
      });
      assert.ok(Math.abs((again.olderThan as number) - (now - 36 * 3600)) < 60);

      assert.equal(await ok(["prune", "orphans", "--older-than", "1d12h", "--limit", "1", "-y", "--db", db]).then((t) => t.replace(/before .* UTC/, "before T")),
        "pruned 1 orphan delivery received before T (the --limit; run it again for more)\n");
      assert.deepEqual(await idsOf(sql, "SELECT id FROM knocker_deliveries WHERE event_id IS NULL ORDER BY id"), [deliveries.invalid]);
      assert.deepEqual((await okJson<Array<{ kind: string }>>(["audits", "--db", db])).map((a) => a.kind), ["prune_orphan_deliveries", "prune_events", "prune_events"]);

      assert.equal(await fails(2, ["prune", "events", "--db", db]), "knocker: prune needs --older-than DURATION (e.g. 7d)");
      assert.equal(await fails(2, ["prune", "--older-than", "7d", "--db", db]), "knocker: prune needs <events|orphans>");
      assert.equal(await fails(2, ["prune", "all", "--older-than", "7d", "--db", db]), 'knocker: prune takes events or orphans, got "all"');
      assert.equal(await fails(2, ["prune", "events", "--older-than", "7 days", "--db", db]), 'knocker: --older-than must be a duration like 90s, 30m, 36h, 7d or 2w, got "7 days"');
      assert.equal(await fails(2, ["prune", "events", "--older-than", "7d", "--limit", "5000", "--db", db]), 'knocker: --limit must be an integer from 1 to 1000, got "5000"');
      assert.equal(await fails(2, ["prune", "events", "--older-than", "7d", "--status", "dead", "--db", db]),
        'knocker: --status must be handled, ignored or handled,ignored (other events are never pruned), got "dead"');
      assert.equal(await fails(2, ["prune", "orphans", "--older-than", "7d", "--status", "handled", "--db", db]), "knocker: --status applies to prune events only");
      assert.equal(await fails(2, ["prune", "events", "--older-than", "-5d", "--db", db]),
        'knocker: option --older-than was given "-5d", which starts with "-" and reads as an option; to pass a value that starts with "-", write --older-than=-5d (see knocker prune --help)');
      assert.equal(await fails(2, ["prune", "events", "--older-than=-5d", "--db", db]),
        'knocker: --older-than must be a duration like 90s, 30m, 36h, 7d or 2w, got "-5d" (a duration is not negative)');
      assert.equal(await fails(2, ["prune", "events", "--limit", "-1", "--older-than", "7d", "--db", db]),
        'knocker: option --limit was given "-1", which starts with "-" and reads as an option; to pass a value that starts with "-", write --limit=-1 (see knocker prune --help)');
      assert.match(await fails(2, ["prune", "events", "--older-than", "999999999w", "--yes", "--db", db]),
        /^knocker: --older-than 999999999w is out of range: it reaches back before 1970-01-01, and nothing is that old \(the longest is \d+d\)$/);
      const longest = Number(/the longest is (\d+)d/.exec(await fails(2, ["prune", "orphans", "--older-than", "99999w", "--db", db]))![1]);
      assert.equal(longest, Math.floor(Date.now() / 1000 / DAY));
      assert.match(await ok(["prune", "orphans", "--older-than", `${longest - 1}d`, "--yes", "--db", db]), /^pruned 0 orphan deliveries received before 1970-01-0[12] /);
      assert.equal((await idsOf(sql, "SELECT id FROM knocker_events")).length, 3, "no usage error pruned anything");
    });

    test("prune asks first: the count it would remove, no = exit 1 and nothing pruned, yes prunes no more than it named", async () => {
      const { db, sql } = await engine.location();
      const { events, deliveries } = await seedInbox(db);
      const audits = async () => (await idsOf(sql, "SELECT id FROM knocker_prune_audits")).length;
      const args = ["prune", "events", "--older-than", "7d", "--db", db];
      const question = /^Prune 1 event \(handled\/ignored\) received before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, with their deliveries, attempts and live jobs\? \[y\/N\] \n/;

      const declined = await knocker(args, { stdin: "n\n" });
      assert.equal(declined.code, 1);
      assert.equal(declined.stdout, "");
      assert.match(declined.stderr, new RegExp(`${question.source}knocker: cancelled: nothing pruned\n$`));
      const noAnswer = await knocker(args);
      assert.equal(noAnswer.code, 1, "end of input is a no");
      assert.equal(await statusOf(sql, events.oldHandled), "handled");
      assert.equal(await audits(), 0, "nothing pruned, no audit row");

      const accepted = await knocker(args, { stdin: "y\n" });
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.match(accepted.stderr, new RegExp(`${question.source}$`));
      assert.match(accepted.stdout, /^pruned 1 event \(handled\/ignored\) received before .* UTC, with 1 delivery, 1 attempt and 0 live jobs\n$/);
      assert.equal(await statusOf(sql, events.oldHandled), undefined);
      assert.equal(await audits(), 1);

      // Nothing left to prune: said so, no question, no audit row.
      assert.match(await ok(args), /^No events \(handled\/ignored\) received before .* UTC; nothing pruned\.\n$/);
      const none = await okJson<Record<string, unknown>>(["prune", "orphans", "--older-than", "30d", "--db", db]);
      assert.deepEqual({ ...none, olderThan: typeof none.olderThan }, { kind: "orphans", olderThan: "number", limit: 100, deliveriesPruned: 0 });
      assert.equal(await audits(), 1);

      // Orphans: the count is capped at --limit, and the prune removes at most what was confirmed.
      // (Both orphans match --older-than 0s once the second they were received in is over.)
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const orphans = await knocker(["prune", "orphans", "--older-than", "0s", "--limit", "1", "--db", db], { stdin: "yes\n" });
      assert.equal(orphans.code, 0, orphans.stderr);
      assert.match(orphans.stderr, /^Prune 1 orphan delivery received before .* UTC \(the --limit of 1; more may match\)\? \[y\/N\] \n$/);
      assert.match(orphans.stdout, /^pruned 1 orphan delivery received before .* UTC \(the --limit; run it again for more\)\n$/);
      assert.deepEqual(await idsOf(sql, "SELECT id FROM knocker_deliveries WHERE event_id IS NULL ORDER BY id"), [deliveries.invalid]);
      const json = await knocker(["prune", "orphans", "--older-than", "0s", "--json", "--db", db], { stdin: "y\n" });
      assert.equal(json.code, 0, json.stderr);
      assert.match(json.stderr, /^Prune 1 orphan delivery received before .* UTC\? \[y\/N\] \n$/);
      assert.equal((JSON.parse(json.stdout) as { deliveriesPruned: number }).deliveriesPruned, 1);
      assert.equal(await audits(), 3);
    });
  });
}

test("ProgressBar draws on the stream it is given, only when that stream is a terminal and the run is long", () => {
  const drawn: string[] = [];
  const terminal = { isTTY: true, write: (text: string) => void drawn.push(text) };
  const stderrWrite = process.stderr.write;
  const onStderr: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array) => (onStderr.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const bar = new ProgressBar("ignore", 20, terminal);
    for (let i = 0; i < 20; i++) bar.tick();
    bar.finish();
    const pipe = { isTTY: false, write: (text: string) => void drawn.push(`pipe: ${text}`) };
    const quiet = new ProgressBar("ignore", 100, pipe);
    quiet.tick();
    quiet.finish();
    const short = new ProgressBar("ignore", 19, terminal);
    short.tick();
    short.finish();
  } finally {
    process.stderr.write = stderrWrite;
  }
  assert.deepEqual(onStderr, []);
  assert.equal(drawn.at(-2), `\rignore [${"#".repeat(30)}] 20/20 100%`);
  assert.equal(drawn.at(-1), "\n");
  assert.ok(drawn.every((text) => !text.startsWith("pipe: ")));
});
