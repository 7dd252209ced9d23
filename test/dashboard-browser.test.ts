// The dashboard in a real headless Chromium (@sparticuz/chromium, driven by puppeteer-core),
// served by node:http through `dashboard.node` in front of a real inbox with its worker running:
// an operator opens the overview, filters to dead events, opens one, replays it and watches it
// become handled; then replays a filter in bulk — the dry run's count, the confirmation, and
// exactly those events replayed (one that arrives after the dry run is not).
// With KNOCKER_DASHBOARD_SCREENSHOTS=1 the test saves the screenshots of docs/dashboard.md.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { open, type Knocker } from "../src/index.js";
import { stripeSignature, tempDbPath } from "./support.js";
import { instrument, launchBrowser, serve, type Served, type Watch } from "./support/dashboard.js";

const SECRET = "whsec_dashboard_test";
const TOKEN = "Bearer test-operator-token";
const SHOTS = process.env.KNOCKER_DASHBOARD_SCREENSHOTS === "1" ? fileURLToPath(new URL("../docs/images/", import.meta.url)) : null;

let webhooks: Knocker;
let browser: Browser;
let served: Served;
let stopWorker: AbortController;
let worker: Promise<void>;
/** While true, the handlers fail (the "bug" the operator fixes before replaying). */
let broken = true;
/** The inbox's clock: pinned while the day's earlier traffic is stored, then the real one. */
let pinned: number | null = null;
const now = () => pinned ?? Math.floor(Date.now() / 1000);

async function stripeReceipt(id: string, type: string, data: Record<string, unknown>): Promise<number | null> {
  const body = JSON.stringify({ id, object: "event", type, data: { object: data } });
  const result = await webhooks.receive({
    endpoint: "stripe",
    body,
    headers: { "stripe-signature": stripeSignature(body, SECRET, now()), "content-type": "application/json", "user-agent": "Stripe/1.0" },
  });
  return result.eventId;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusOf = async (id: number) => (await webhooks.getEvent(id))!.status;

before(async () => {
  webhooks = open(tempDbPath(), { maxAttempts: 2, retryBackoff: false, now });
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  webhooks.endpoint("orders", { path: "/webhooks/orders" });
  const fail = (what: string) => {
    if (broken) throw new Error(`${what}: the fulfilment service answered 503 (Service Unavailable)`);
  };
  webhooks.handle({ endpoint: "stripe", eventType: "invoice.paid" }, () => fail("invoice.paid"));
  webhooks.handle({ endpoint: "stripe", eventType: "checkout.session.completed" }, () => undefined);
  webhooks.handle({ endpoint: "orders" }, (event) => fail(event.eventType ?? "order"));
  // The last 23 hours of traffic (the overview's chart), stored before the worker starts.
  const start = Math.floor(Date.now() / 1000) - 23 * 3600;
  for (let hour = 0; hour < 23; hour++) {
    const receipts = 3 + Math.round(4 + 3 * Math.sin(hour / 3));
    for (let i = 0; i < receipts; i++) {
      pinned = start + hour * 3600 + i * 97;
      await stripeReceipt(`evt_h${hour}_${i}`, "checkout.session.completed", { id: `cs_h${hour}_${i}`, amount_total: 500 + i });
      if (i === 0 && hour % 5 === 2) await webhooks.receive({ endpoint: "stripe", body: "{}", headers: { "stripe-signature": `t=${pinned},v1=${"0".repeat(64)}` } });
    }
    if (hour % 2 === 0) await webhooks.ingest({ endpoint: "orders", body: JSON.stringify({ order: `ord_${hour}` }), eventType: "order.created", dedupeKey: `hist-${hour}` });
  }
  pinned = null;
  broken = false; // yesterday's traffic was handled
  stopWorker = new AbortController();
  worker = webhooks.runWorker({ signal: stopWorker.signal });
  await until("the earlier traffic handled", async () => (await webhooks.listEvents({ status: "received", limit: 1 })).length === 0);
  broken = true;
  browser = await launchBrowser();
  served = await serve(webhooks.dashboard({ authorize: (request) => request.headers.get("authorization") === TOKEN }));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await served?.close();
  stopWorker?.abort();
  await worker;
  await webhooks?.close();
});

const watches = new WeakMap<Page, Watch>();

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders({ authorization: TOKEN });
  watches.set(page, await instrument(page));
  return page;
}

/** No script error, no dialog and no CSP violation on any page this tab showed. */
async function closePage(page: Page): Promise<void> {
  const watch = watches.get(page)!;
  const violations = await page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []);
  await page.close();
  assert.deepEqual({ errors: watch.errors, dialogs: watch.dialogs, violations }, { errors: [], dialogs: [], violations: [] });
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}dashboard-${name}.png`, fullPage: true });
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el as HTMLElement).innerText);

test("overview → dead events → one event → replay with the worker running → handled", async () => {
  broken = true;
  for (let i = 1; i <= 6; i++) await stripeReceipt(`evt_ok_${i}`, "checkout.session.completed", { id: `cs_${i}`, amount_total: 1000 * i });
  const deadIds: number[] = [];
  for (let i = 1; i <= 3; i++) deadIds.push((await stripeReceipt(`evt_inv_${i}`, "invoice.paid", { id: `in_${i}`, customer: `cus_${i}` }))!);
  // A rejected signature and a duplicate receipt, so the pages have them to show.
  await webhooks.receive({ endpoint: "stripe", body: '{"id":"evt_forged"}', headers: { "stripe-signature": "t=1,v1=deadbeef" } });
  const dupBody = JSON.stringify({ id: "evt_inv_1", object: "event", type: "invoice.paid", data: { object: { id: "in_1", customer: "cus_1" } } });
  await webhooks.receive({ endpoint: "stripe", body: dupBody, headers: { "stripe-signature": stripeSignature(dupBody, SECRET) } });
  await until("three dead events", async () => (await Promise.all(deadIds.map(statusOf))).every((s) => s === "dead"));

  const page = await newPage();
  await page.goto(`${served.url}/`);
  assert.match(await page.title(), /Overview/);
  assert.match(await text(page, "main"), /Dead events\s+3/i);
  const endpoints = await page.$$eval("main table tbody tr td:first-child", (cells) => cells.map((cell) => (cell as HTMLElement).innerText));
  assert.deepEqual(endpoints.slice(0, 2), ["orders", "stripe"]);
  await shot(page, "overview");

  // Filter to the dead events with the filter form.
  await page.goto(`${served.url}/events`);
  await page.select('select[name="status"]', "dead");
  await Promise.all([page.waitForNavigation(), page.click('form.filters button[type="submit"]')]);
  assert.match(page.url(), /status=dead/);
  const rows = await page.$$eval("main table tbody tr", (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
  assert.equal(rows.length, 3);
  for (const row of rows) assert.match(row, /dead/);
  await shot(page, "events");

  // Open the oldest one: its attempts and their errors, its receipts (the original and the duplicate).
  const target = deadIds[0]!;
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/events/${target}"]`)]);
  assert.match(await text(page, "h1"), new RegExp(`Event ${target}\\s+dead`));
  const attempts = await text(page, "main");
  assert.match(attempts, /Attempts \(2\)/);
  assert.match(attempts, /fulfilment service answered 503/);
  assert.match(attempts, /Receipts \(2\)/);
  assert.match(attempts, /original[\s\S]*duplicate|duplicate[\s\S]*original/);
  assert.match(attempts, /"customer": "cus_1"/, "the body, pretty-printed");
  await shot(page, "event");

  // The bug is fixed; replay. The worker runs it; the page reloads itself until it is handled.
  broken = false;
  await Promise.all([page.waitForNavigation(), page.click('button[data-action="replay"]')]);
  assert.match(page.url(), new RegExp(`/events/${target}\\?done=replay$`), await text(page, "main"));
  await page.waitForFunction(() => document.querySelector("h1 .status")?.textContent === "handled", { timeout: 15_000 });
  assert.equal(await statusOf(target), "handled");
  const history = await text(page, "main");
  assert.match(history, /Attempts \(3\)/, "the history keeps the failed attempts; the replay's is the newest");
  const outcomes = await webhooks.listAttempts(target);
  assert.deepEqual(outcomes.map((a) => a.outcome), ["handled", "dead", "failed"]);
  assert.deepEqual(await Promise.all(deadIds.slice(1).map(statusOf)), ["dead", "dead"], "the others were left alone");
  await closePage(page);
});

test("bulk replay by filter: the dry run's count, a confirmation, and exactly those events replayed", async () => {
  broken = true;
  const ingestOrder = async (type: string, key: string) =>
    (await webhooks.ingest({ endpoint: "orders", body: JSON.stringify({ order: key }), eventType: type, dedupeKey: key })).eventId!;
  const selected: number[] = [];
  for (let i = 1; i <= 4; i++) selected.push(await ingestOrder("order.shipped", `ship-${i}`));
  const otherType = await ingestOrder("order.refunded", "refund-1");
  const otherEndpoint = (await stripeReceipt("evt_inv_bulk", "invoice.paid", { id: "in_bulk" }))!;
  const bystanders = [otherType, otherEndpoint];
  await until("the new events dead", async () => (await Promise.all([...selected, ...bystanders].map(statusOf))).every((s) => s === "dead"));

  const page = await newPage();
  await page.goto(`${served.url}/events`);
  await page.select('select[name="status"]', "dead");
  await page.select('select[name="endpoint"]', "orders");
  await page.type('input[name="type"]', "order.shipped");
  await Promise.all([page.waitForNavigation(), page.click('form.filters button[type="submit"]')]);
  assert.equal((await page.$$("main table tbody tr")).length, 4);

  // The dry run.
  await page.select('select[name="action"]', "replay");
  await Promise.all([page.waitForNavigation(), page.click("form.filters button.secondary")]);
  assert.match(page.url(), /\/bulk\?/);
  const count = await page.$eval("#dry-run-count", (el) => (el as HTMLElement).dataset.count);
  assert.equal(count, "4");
  assert.match(await text(page, "#dry-run-count"), /4 events match now/);
  assert.match(await text(page, "#bulk-confirm"), /Replay 4 events/);
  await shot(page, "bulk");

  // Meanwhile another matching event dies: the confirmation keeps to what the dry run showed.
  const late = await ingestOrder("order.shipped", "ship-late");
  await until("the late event dead", async () => (await statusOf(late)) === "dead");
  const before = await webhooks.listAttempts(late);

  broken = false;
  await Promise.all([page.waitForNavigation(), page.click("#bulk-confirm")]);
  const result = await page.$eval("#bulk-result", (el) => ({ changed: (el as HTMLElement).dataset.changed, refused: (el as HTMLElement).dataset.refused }));
  assert.deepEqual(result, { changed: "4", refused: "0" });
  assert.match(await text(page, "h1"), /Replayed 4 events/);
  await until("the four replayed events handled", async () => (await Promise.all(selected.map(statusOf))).every((s) => s === "handled"));
  // Nothing else was replayed: the bystanders and the late one are dead, the late one untouched.
  assert.deepEqual(await Promise.all([...bystanders, late].map(statusOf)), ["dead", "dead", "dead"]);
  assert.deepEqual(await webhooks.listAttempts(late), before);
  await closePage(page);
});

test("a bulk confirmation whose selection changed after the dry run changes nothing and shows the new count", async () => {
  broken = true;
  const ids: number[] = [];
  for (let i = 1; i <= 3; i++) ids.push((await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "order.lost", dedupeKey: `lost-${i}` })).eventId!);
  await until("three lost orders dead", async () => (await Promise.all(ids.map(statusOf))).every((s) => s === "dead"));
  const page = await newPage();
  await page.goto(`${served.url}/bulk?action=requeue&status=dead&type=order.lost`);
  assert.equal(await page.$eval("#dry-run-count", (el) => (el as HTMLElement).dataset.count), "3");
  await webhooks.ignore(ids[1]!); // someone else acts on one of them in between
  await Promise.all([page.waitForNavigation(), page.click("#bulk-confirm")]);
  assert.match(await text(page, "main"), /changed since the dry run[\s\S]*nothing was changed/);
  assert.equal(await page.$eval("#dry-run-count", (el) => (el as HTMLElement).dataset.count), "2");
  assert.deepEqual(await Promise.all(ids.map(statusOf)), ["dead", "ignored", "dead"]);
  await closePage(page);
});
