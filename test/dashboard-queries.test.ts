// The dashboard's own reads (DashboardQueries, each engine's) against the operator API as the
// oracle, on every engine (test/support/engines.ts): on an inbox with every status, several
// endpoints and types, duplicates and rejected receipts, every filter combination's pages —
// walked with the cursor — are exactly the matching events newest first; bulk selections are the
// matching events oldest first; counts, receipts per slot, the oldest unhandled event, the queue
// and the lookups are what the rows say. And every statement's plan is an index range or an
// ordered index walk (SQLite's query plans), or at least runs on an index (Postgres's).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import type { Delivery, Event, EventStatus, Knocker } from "../src/index.js";
import { DASHBOARD_SQL, deliveryPagePlan, eventPagePlan, selectionPlans } from "../src/store/sqlite/plans/dashboard.js";
import { eventListPlan } from "../src/store/sqlite/plans/operator.js";
import { ALL_STATUSES, prunablePlans } from "../src/store/ranges.js";
import { SqliteDashboardQueries } from "../src/store/sqlite/dashboard-queries.js";
import { ReaderPool } from "../src/store/sqlite/reader-pool.js";
import { PgDashboardQueries } from "../src/store/postgres/dashboard-queries.js";
import { dashboardPlans, pagePlans } from "../src/store/postgres/plans/dashboard.js";
import { eventListPlan as pgEventListPlan } from "../src/store/postgres/plans/operator.js";
import { positional } from "../src/store/postgres/queries.js";
import { PgSession } from "../src/store/postgres/session.js";
import type { DashboardQueries, EventSelection } from "../src/dashboard/queries.js";
import { engineMatrix, type TestInbox } from "./support/engines.js";
import { stripeSignature } from "./support.js";

const T0 = 1_800_000_000;
const engines = engineMatrix();

for (const engine of engines) {
  describe(engine.name, () => {
    let clock = T0;
    let inbox: TestInbox;
    let webhooks: Knocker;
    /** The engine's own object, on connections of its own to the same inbox. */
    let queries: DashboardQueries;
    let closeQueries: () => Promise<void>;
    let events: Event[]; // newest first, as listEvents orders them
    let deliveries: Delivery[];
    const endpointIds = new Map<string, number>();

    before(async () => {
      inbox = await engine.inbox({ now: () => clock, maxAttempts: 2, retryBackoff: { initialS: 3600, maxS: 3600 }, invalidDeliveriesPerMinute: 3 });
      webhooks = inbox.webhooks;
      webhooks.endpoint("alpha", { path: "/alpha" }).handle("ok", () => undefined).handle("bad", () => {
        throw new Error("bad one");
      });
      webhooks.endpoint("beta", { path: "/beta" }).handle("ok", () => undefined);
      webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: ["whsec_q"] }).handle("ok", () => undefined);
      const types = ["ok", "bad", "none"]; // "none" has no handler: dead at once
      for (let i = 0; i < 240; i++) {
        clock = T0 + i * 97 + (i % 7 === 0 ? 0 : 13); // several events share a second now and then
        if (i % 11 === 0) clock = T0 + (i - 1) * 97 + 13;
        const endpoint = ["alpha", "beta", "alpha", "stripe"][i % 4]!;
        const type = types[(i * 7) % 3]!;
        if (endpoint === "stripe") {
          const body = JSON.stringify({ id: `evt_${i}`, type, data: {} });
          await webhooks.receive({ endpoint, body, headers: { "stripe-signature": stripeSignature(body, "whsec_q", clock) } });
          if (i % 3 === 0) await webhooks.receive({ endpoint, body, headers: { "stripe-signature": stripeSignature(body, "whsec_q", clock) } }); // duplicate
          if (i % 5 === 0) await webhooks.receive({ endpoint, body, headers: { "stripe-signature": "t=1,v1=00" } }); // rejected
        } else {
          await webhooks.ingest({ endpoint, body: `{"n":${i}}`, eventType: type, dedupeKey: `${endpoint}-${i}`, providerDeliveryId: `dlv-${i}` });
        }
      }
      // Run the handlers: ok → handled, bad → failed (retry in an hour), none → dead.
      const controller = new AbortController();
      const worker = webhooks.runWorker({ signal: controller.signal });
      for (;;) {
        if ((await webhooks.listEvents({ status: "received", limit: 1 })).length === 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      controller.abort();
      await worker;
      let n = 0;
      for await (const event of webhooks.iterateEvents({ status: "dead" })) if (n++ % 3 === 0) await webhooks.ignore(event.id);
      // Some arrive after the worker stopped: received, with due jobs.
      for (let i = 0; i < 12; i++) {
        clock = T0 + 240 * 97 + i * 50;
        await webhooks.ingest({ endpoint: i % 2 ? "alpha" : "beta", body: "{}", eventType: types[i % 3]!, dedupeKey: `late-${i}` });
      }
      // A burst of rejections inside one minute: 3 stored, the rest only counted.
      clock += 120;
      const minute = clock - (clock % 60);
      clock = minute + 1;
      for (let i = 0; i < 7; i++) await webhooks.receive({ endpoint: "stripe", body: "{}", headers: { "stripe-signature": "t=1,v1=11" } });
      clock = minute + 61; // the next minute: the count is written
      await webhooks.receive({ endpoint: "stripe", body: "{}", headers: { "stripe-signature": "t=1,v1=22" } });
      clock += 10;

      events = await webhooks.listEvents({ limit: 1000 });
      deliveries = await webhooks.listDeliveries({ limit: 1000 });
      for (const row of await inbox.sql.all<{ id: number; name: string }>("SELECT id, name FROM knocker_endpoints")) endpointIds.set(row.name, row.id);
      if (engine.name === "sqlite") {
        // A reader pool of its own over the same file.
        const db = new Database(inbox.target);
        const readers = new ReaderPool(inbox.target, 2, db, 5000);
        queries = new SqliteDashboardQueries(readers, webhooks.queueName);
        closeQueries = async () => {
          readers.close();
          db.close();
        };
      } else {
        const pool = new pg.Pool({ connectionString: inbox.target, max: 2 });
        queries = new PgDashboardQueries(new PgSession(pool as never, pg), '"knocker"', webhooks.queueName);
        closeQueries = () => pool.end();
      }
    });

    after(async () => {
      await webhooks.close();
      await closeQueries();
    });

    const byNewest = (a: { receivedAt: number; id: number }, b: { receivedAt: number; id: number }) => b.receivedAt - a.receivedAt || b.id - a.id;

    function matches(event: Event, s: EventSelection): boolean {
      return (s.statuses === undefined || s.statuses.includes(event.status)) &&
        (s.endpointId === undefined || endpointIds.get(event.endpoint) === s.endpointId) &&
        (s.eventType === undefined || event.eventType === s.eventType) &&
        (s.since === undefined || event.receivedAt >= s.since) &&
        (s.until === undefined || event.receivedAt <= s.until);
    }

    function selections(): EventSelection[] {
      const out: EventSelection[] = [];
      const mid = T0 + 120 * 97;
      for (const statuses of [undefined, ...ALL_STATUSES.map((s) => [s]), ["failed", "dead", "ignored"] as EventStatus[]]) {
        for (const endpointId of [undefined, ...endpointIds.values()]) {
          for (const eventType of [undefined, "ok", "none", "missing"]) {
            for (const [since, until] of [[undefined, undefined], [mid, undefined], [undefined, mid], [mid - 2000, mid + 13]] as const) {
              out.push({ statuses, endpointId, eventType, since, until });
            }
          }
        }
      }
      return out;
    }

    test("the inbox under test has every status, duplicates and rejected receipts", () => {
      const statuses = new Set(events.map((e) => e.status));
      for (const status of ["received", "handled", "failed", "dead", "ignored"]) assert.ok(statuses.has(status as EventStatus), status);
      assert.ok(deliveries.some((d) => d.signatureValid === false));
      assert.ok(deliveries.filter((d) => d.eventId !== null).length > events.length, "duplicates");
      assert.equal(events.length, 252);
    });

    test("eventPage: every filter combination, walked page by page, is exactly the matching events newest first", async () => {
      let checked = 0;
      for (const selection of selections()) {
        const expected = events.filter((e) => matches(e, selection)).sort(byNewest).map((e) => e.id);
        const walked: number[] = [];
        let after: { receivedAt: number; id: number } | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = await queries.eventPage(selection, 17, after);
          walked.push(...page.map((row) => row.id));
          if (page.length < 17) break;
          after = page.at(-1)!;
        }
        assert.deepEqual(walked, expected, JSON.stringify(selection));
        checked += expected.length;
      }
      assert.ok(checked > 2000, `${checked} rows compared`);
      // Rows carry the summary fields.
      const [row] = await queries.eventPage({ statuses: ["failed"] }, 1);
      const event = events.find((e) => e.id === row!.id)!;
      assert.deepEqual(row, {
        id: event.id, endpoint: event.endpoint, eventType: event.eventType, status: "failed", receivedAt: event.receivedAt,
        attemptCount: event.attemptCount, lastError: event.lastError, providerEventId: event.providerEventId,
      });
    });

    test("selectEvents: oldest first, bounded by id and limit, with the full count", async () => {
      for (const selection of selections().filter((_, i) => i % 5 === 0)) {
        const all = events.filter((e) => matches(e, selection)).sort((a, b) => -byNewest(a, b));
        const through = all.length > 3 ? [...all].sort((a, b) => a.id - b.id)[Math.floor(all.length / 2)]!.id : undefined;
        const bounded = all.filter((e) => through === undefined || e.id <= through);
        const got = await queries.selectEvents(selection, { limit: 9, throughId: through, countCap: 1_000_000 });
        assert.deepEqual(got, { ids: bounded.slice(0, 9).map((e) => e.id), total: bounded.length }, JSON.stringify(selection));
      }
      const capped = await queries.selectEvents({}, { limit: 5, countCap: 20 });
      assert.equal(capped.total, 20);
      assert.equal(await queries.maxEventId(), Math.max(...events.map((e) => e.id)));
    });

    test("deliveryPage: all, rejected and orphaned receipts, per endpoint, walked page by page", async () => {
      for (const kind of [undefined, "invalid", "orphaned"] as const) {
        for (const endpointId of [undefined, ...endpointIds.values()]) {
          for (const since of [undefined, T0 + 100 * 97]) {
            const expected = deliveries
              .filter((d) => (endpointId === undefined || endpointIds.get(d.endpoint) === endpointId) &&
                (kind === undefined || (kind === "invalid" ? d.signatureValid === false : d.eventId === null)) &&
                (since === undefined || d.receivedAt >= since))
              .sort(byNewest).map((d) => d.id);
            const walked: number[] = [];
            let after: { receivedAt: number; id: number } | undefined;
            for (;;) {
              const page = await queries.deliveryPage({ kind, endpointId, since }, 11, after);
              walked.push(...page.map((d) => d.id));
              if (page.length < 11) break;
              after = page.at(-1)!;
            }
            assert.deepEqual(walked, expected, `${kind} ${endpointId} ${since}`);
          }
        }
      }
    });

    test("statusCounts, activity, queue: what the rows say", async () => {
      const counts = await queries.statusCounts(ALL_STATUSES);
      for (const { endpointId, status, count } of counts) {
        assert.equal(count, events.filter((e) => endpointIds.get(e.endpoint) === endpointId && e.status === status).length, `${endpointId} ${status}`);
      }
      const slotS = 3600;
      const from = T0;
      const slots = 8;
      const activity = await queries.activity({ from, slotS, slots });
      for (const a of activity) {
        const mine = deliveries.filter((d) => endpointIds.get(d.endpoint) === a.endpointId);
        for (let i = 0; i < slots; i++) {
          const inSlot = mine.filter((d) => d.receivedAt >= from + i * slotS && d.receivedAt < from + (i + 1) * slotS);
          assert.equal(a.accepted[i], inSlot.filter((d) => d.signatureValid !== false).length);
          assert.equal(a.rejected[i], inSlot.filter((d) => d.signatureValid === false).length);
        }
        const waiting = events.filter((e) => endpointIds.get(e.endpoint) === a.endpointId && (e.status === "received" || e.status === "failed"));
        assert.equal(a.oldestUnhandledAt, waiting.length === 0 ? null : Math.min(...waiting.map((e) => e.receivedAt)));
        assert.equal(a.dropped, a.endpointId === endpointIds.get("stripe") ? 4 : 0, "rejections over the budget, counted");
      }
      const queue = await queries.queue(clock);
      assert.equal(queue.due, events.filter((e) => e.status === "received").length);
      assert.equal(queue.scheduled, events.filter((e) => e.status === "failed").length);
      assert.equal(queue.processing, 0);
      assert.equal(queue.oldestDueAt, Math.min(...events.filter((e) => e.status === "received").map((e) => e.receivedAt)));
    });

    test("lookup: by event and delivery id, dedupe key, provider event and delivery id", async () => {
      const event = events.find((e) => e.endpoint === "beta")!;
      assert.deepEqual(await queries.lookup(event.dedupeKey!), [{ eventId: event.id, deliveryId: null, endpoint: "beta", match: "dedupe key" }]);
      const stripe = events.find((e) => e.endpoint === "stripe")!;
      const hits = await queries.lookup(stripe.providerEventId!);
      assert.ok(hits.some((h) => h.match === "dedupe key" && h.eventId === stripe.id));
      assert.ok(hits.some((h) => h.match === "provider event id" && h.eventId === stripe.id && h.deliveryId !== null));
      const byDelivery = await queries.lookup("dlv-1");
      assert.deepEqual(byDelivery.map((h) => h.match), ["provider delivery id"]);
      const byId = await queries.lookup(String(stripe.id));
      assert.ok(byId.some((h) => h.match === "event id" && h.eventId === stripe.id));
      assert.ok(byId.some((h) => h.match === "delivery id" && h.deliveryId === stripe.id));
      assert.deepEqual(await queries.lookup("nothing-like-it"), []);
    });

    if (engine.name === "sqlite") {
      test("every statement is an index range or an ordered index walk: no table scan, no sort of a whole range", () => {
        const db = new Database(inbox.target, { readonly: true });
        const plan = (sql: string, params: unknown) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as Array<{ detail: string }>).map((r) => r.detail);
        const check = (what: string, sql: string, params: unknown) => {
          const lines = plan(sql, params);
          lines.forEach((line, i) => {
            // A sort right after a table's range would sort the whole range; after a subquery's
            // output (each arm of a union, at most LIMIT rows) it only merges.
            if (/TEMP B-TREE/.test(line)) assert.doesNotMatch(lines[i - 1] ?? "", /knocker_|_honker_/, `${what}: sorts a range: ${lines.join(" | ")}`);
          });
          for (const line of lines) {
            if (!/knocker_|_honker_/.test(line) || /^USING ROWID SEARCH ON TABLE knocker_endpoints FOR IN-OPERATOR$/.test(line)) continue;
            const ok = /^SEARCH \S+$/.test(line) || // MAX(rowid): the last row of the table's b-tree
              /^SEARCH \S+ USING (?:COVERING )?INDEX |^SEARCH \S+ USING INTEGER PRIMARY KEY|^SCAN \S+ USING (?:COVERING )?INDEX (?:knocker_events_received|knocker_deliveries_received|knocker_deliveries_orphans|sqlite_autoindex_knocker_endpoints_\d)\b/.test(line) ||
              /^SCAN (?:k|knocker_endpoints)\b/.test(line); // the endpoints table: a handful of rows
            assert.ok(ok, `${what}: ${line}`);
          }
        };
        for (const [name, sql] of Object.entries(DASHBOARD_SQL)) {
          const text = typeof sql === "string" ? sql : sql.pluck;
          const count = (text.match(/\?/g) ?? []).length;
          check(name, text, /@/.test(text) ? { text: "x", limit: 10 } : Array.from({ length: count }, () => 1));
        }
        const every = [...endpointIds.values()];
        for (const selection of selections().filter((_, i) => i % 7 === 0)) {
          const page = eventPagePlan(selection, every, 51, 300, { receivedAt: T0, id: 9 });
          check(`eventPage ${JSON.stringify(selection)}`, page.sql, page.params);
          const { ids, count } = selectionPlans(selection, every, 1000, 99, 1000);
          check(`selection ${JSON.stringify(selection)}`, ids.sql, ids.params);
          check(`count ${JSON.stringify(selection)}`, count.sql, count.params);
        }
        // The operator's listEvents and retention's prune walk the same ranges.
        for (const status of [undefined, ...ALL_STATUSES]) {
          for (const endpointId of [undefined, 1]) {
            for (const eventType of [undefined, "ok"]) {
              const list = eventListPlan({ status, eventType, since: T0 }, endpointId, every, 51, { receivedAt: T0 + 99, id: 9 });
              check(`listEvents ${status} ${endpointId} ${eventType}`, list.sql, list.params);
            }
          }
        }
        for (const statuses of [["handled"], ["handled", "ignored"]] as const) {
          const prune = prunablePlans("knocker_events", statuses, every, T0, 1000);
          check(`prune ${statuses.join(", ")}`, prune.ids, prune.params);
          check(`prune count ${statuses.join(", ")}`, prune.count, prune.params);
        }
        for (const kind of [undefined, "invalid", "orphaned"] as const) {
          for (const endpointId of [undefined, 1]) {
            const p = deliveryPagePlan({ kind, endpointId, since: T0 }, [1, 2, 3], 51, 300, { receivedAt: T0, id: 9 });
            check(`deliveryPage ${kind} ${endpointId}`, p.sql, p.params);
          }
        }
        db.close();
      });
    } else {
      test("every statement is an index range or an ordered index walk, with sequential scans priced out", async () => {
        const s = '"knocker"';
        const client = new pg.Client({ connectionString: inbox.target });
        await client.connect();
        // Off, the planner still scans a table when no index can serve the statement: a scan left
        // in a plan is a missing index. An index read without a condition walks all of it, which
        // only the received-order walks (and MAX(id)) may do.
        await client.query("SET enable_seqscan = off");
        const walks = new Set(["knocker_events_received", "knocker_deliveries_received", "knocker_deliveries_orphans", "knocker_events_pkey"]);
        type PlanNode = { "Node Type": string; "Relation Name"?: string; "Index Name"?: string; "Index Cond"?: string; Plans?: PlanNode[] };
        const check = async (what: string, text: string, values: unknown[]) => {
          const [{ "QUERY PLAN": [{ Plan: root }] }] = (await client.query({ text: `EXPLAIN (FORMAT JSON) ${text}`, values })).rows as [{ "QUERY PLAN": [{ Plan: PlanNode }] }];
          const visit = (node: PlanNode) => {
            if (node["Node Type"] === "Seq Scan") assert.equal(node["Relation Name"], "knocker_endpoints", `${what}: ${JSON.stringify(root)}`); // a handful of rows
            const index = node["Index Name"];
            if (index !== undefined && node["Index Cond"] === undefined && !index.startsWith("knocker_endpoints_")) assert.ok(walks.has(index), `${what}: all of ${index} is read`);
            node.Plans?.forEach(visit);
          };
          visit(root);
        };
        const fixed = dashboardPlans(s);
        const values: Record<keyof typeof fixed, unknown[]> = {
          endpoints: [], statusCounts: [ALL_STATUSES], receiptsPerSlot: [T0, 3600, 8], endpointBacklog: [T0, T0 + 3600], queue: ["knocker.events", T0],
          maxEventId: [], eventById: [1], deliveryById: [1], eventsByDedupeKey: ["x"], recentDeliveriesByProviderId: ["x", 10],
        };
        for (const [name, text] of Object.entries(fixed)) await check(name, text, values[name as keyof typeof fixed]);
        const plans = pagePlans(s);
        const run = (what: string, plan: { sql: string; params: Record<string, unknown> }) => {
          const { text, values } = positional(plan.sql, plan.params);
          return check(what, text, values);
        };
        const every = [...endpointIds.values()];
        for (const selection of selections().filter((_, i) => i % 7 === 0)) {
          await run(`eventPage ${JSON.stringify(selection)}`, plans.eventPage(selection, every, 51, 300, { receivedAt: T0, id: 9 }));
          const { ids, count } = plans.selection(selection, every, 1000, 99, 1000);
          await run(`selection ${JSON.stringify(selection)}`, ids);
          await run(`count ${JSON.stringify(selection)}`, count);
        }
        for (const status of [undefined, ...ALL_STATUSES]) {
          for (const endpointId of [undefined, 1]) {
            await run(`listEvents ${status} ${endpointId}`, pgEventListPlan(s, { status, since: T0 }, endpointId, every, 51, { receivedAt: T0 + 99, id: 9 }));
          }
        }
        for (const kind of [undefined, "invalid", "orphaned"] as const) {
          for (const endpointId of [undefined, 1]) {
            await run(`deliveryPage ${kind} ${endpointId}`, plans.deliveryPage({ kind, endpointId, since: T0 }, [1, 2, 3], 51, 300, { receivedAt: T0, id: 9 }));
          }
        }
        await client.end();
      });
    }
  });
}
