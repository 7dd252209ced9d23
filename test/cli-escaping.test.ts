// Terminal safety of the `knocker` bin: webhook-supplied strings (event types, ids, header names
// and values, query, bodies, errors, endpoint names) carrying ESC / OSC / C1 / DEL / bidi
// controls are printed escaped by every table and detail command, and exactly by --json.
// Real Knocker writes to a real SQLite file, then the built bin as a child process.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { open } from "../src/index.js";
import { escapeAndTruncate, escapeText } from "../src/cli/escape.js";
import { buildBin, ok, okJson, tableRows } from "./support/cli.js";
import { drain, tempDbPath } from "./support.js";

const CLEAR = "\x1b[2J\x1b[H";
const TITLE = "\x1b]0;pwned\x07";
const CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07";
const C1 = "\u009b31m\u0085";
const DEL = "\x7f";
const BIDI = "\u202etxt.exe\u202c\u2066";
const NASTY = `${CLEAR}${TITLE}${CLIPBOARD}${C1}${DEL}${BIDI}`;

/** What the escaped NASTY must contain, each as visible text. */
const ESCAPED = ["\\x1b[2J", "\\x1b]0;pwned\\x07", "\\x1b]52;c;ZWNobyBwd25lZA==\\x07", "\\u009b31m", "\\u0085", "\\x7f", "\\u202etxt.exe\\u202c", "\\u2066"];

/** Any raw character a terminal might act on; \n, \t and \r\n are layout and allowed. */
const RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

const ENDPOINT = `evil${CLEAR}${C1}`;
const EVENT_TYPE = `order.${NASTY}`;
const LONG_TYPE = `${"a".repeat(37)}\x1b[2J`; // its escape would straddle the 40-character cut
const HEADERS = { "x-title": TITLE, [`x-name${DEL}\x1b[31m`]: "v", "x-many": [CLIPBOARD, `two${C1}`] };
const QUERY = { [`q${BIDI}`]: NASTY, plain: "ok" };
const TEXT_BODY = `line one ${CLEAR}\nline two\t${TITLE}${CLIPBOARD}\r\nline three ${C1}${DEL}${BIDI}\rover`;
const JSON_BODY = JSON.stringify({ type: EVENT_TYPE, note: `c1${C1} del${DEL} bidi${BIDI}` }); // C0 JSON-escaped, the rest raw

interface Ids {
  text: { event: number; delivery: number };
  json: { event: number; delivery: number };
  long: number;
  rejected: number;
}

let db: string;
let ids: Ids;

before(async () => {
  buildBin();
  db = tempDbPath("cli-escaping.db");
  const webhooks = open(db, { maxAttempts: 1, retryBackoff: false });
  try {
    const ep = webhooks.endpoint(ENDPOINT, { path: "/evil" });
    ep.handle(`order.${NASTY}`, () => {
      throw new Error(`handler failed ${NASTY}\nsecond line ${TITLE}`);
    });
    ep.handle(() => {});
    const text = await webhooks.ingest({
      endpoint: ENDPOINT, body: TEXT_BODY, headers: HEADERS, query: QUERY, method: `POST${DEL}`, eventType: EVENT_TYPE,
      providerEventId: `evt_${CLEAR}`, providerDeliveryId: `dlv_${C1}`, dedupeKey: `key_${TITLE}`,
    });
    const json = await ep.receive({ body: JSON_BODY, headers: HEADERS, query: QUERY, eventType: `json.${NASTY}`, providerEventId: `evt2${BIDI}` });
    const long = await webhooks.ingest({ endpoint: ENDPOINT, body: "{}", eventType: LONG_TYPE, dedupeKey: "long" });
    const rejected = await webhooks.ingest({
      endpoint: ENDPOINT, body: TEXT_BODY, headers: HEADERS, eventType: EVENT_TYPE, signatureValid: false, signatureError: `bad signature ${NASTY}`,
    });
    await drain(webhooks, async () => (await webhooks.getEvent(text.eventId!))!.status === "dead" && (await webhooks.getEvent(json.eventId!))!.status !== "received");
    ids = {
      text: { event: text.eventId!, delivery: text.deliveryId! },
      json: { event: json.eventId!, delivery: json.deliveryId! },
      long: long.eventId!,
      rejected: rejected.deliveryId!,
    };
  } finally {
    await webhooks.close();
  }
});

function assertSafe(output: string, what: string, expected: readonly string[] = ESCAPED): void {
  const raw = RAW.exec(output);
  assert.equal(raw, null, `${what}: raw U+${raw?.[0]!.charCodeAt(0).toString(16).padStart(4, "0")} at ${raw?.index} in:\n${JSON.stringify(output)}`);
  for (const form of expected) assert.ok(output.includes(form), `${what}: missing ${form} in:\n${output}`);
}

test("escapeText / escapeAndTruncate: visible escapes, never half an escape", () => {
  assert.equal(escapeText("a\x1bb\u009bc\x7fd\u202ee\x00"), "a\\x1bb\\u009bc\\x7fd\\u202ee\\x00");
  assert.equal(escapeText("a\nb\tc\r\nd\re", "cell"), "a\\nb\\tc\\r\\nd\\re");
  assert.equal(escapeText("a\nb\tc\r\nd\re", "lines"), "a\nb\tc\r\nd\\re");
  assert.equal(escapeText("plain ünïcödé 😀"), "plain ünïcödé 😀");
  assert.equal(escapeText("lone \ud800 surrogate"), "lone \\ud800 surrogate");
  for (let max = 2; max <= 30; max++) {
    const out = escapeAndTruncate(`abc${NASTY}`, max);
    assert.ok(out.length <= max, `max ${max}: ${out}`);
    assert.equal(RAW.exec(out), null);
    if (out.endsWith("…")) {
      // The kept part is a prefix of the full escape, ending on a unit boundary.
      const kept = out.slice(0, -1);
      assert.ok(escapeText(`abc${NASTY}`).startsWith(kept), `max ${max}: ${out}`);
      assert.doesNotMatch(kept, /\\(?:x[0-9a-f]?|u[0-9a-f]{0,3})?$/, `max ${max}: cut inside an escape: ${out}`);
    }
  }
});

test("events and deliveries tables escape every cell and cut long cells on whole escapes", async () => {
  const events = await ok(["events", "--db", db]);
  assertSafe(events, "events", ["\\x1b[2J", "\\u009b"]);
  const rows = tableRows(events);
  const long = rows.find((row) => row[0] === String(ids.long))!;
  assert.ok(long.includes(`${"a".repeat(37)}…`), `long type cut on a whole escape: ${JSON.stringify(long)}`);
  // Each event is one line: no escape broke the table.
  assert.equal(rows.length, 3);

  const deliveries = await ok(["deliveries", "--db", db]);
  assertSafe(deliveries, "deliveries", ["\\x1b[2J", "\\u009b", "bad signature"]);
  assert.equal(tableRows(deliveries).length, 4);

  assertSafe(await ok(["deliveries", "--invalid", "--db", db]), "deliveries --invalid", ["bad signature \\x1b[2J"]);
  assertSafe(await ok(["events", "--status", "dead", "--db", db]), "events --status dead", ["handler failed \\x1b[2J"]);
  assertSafe(await ok(["events", "--endpoint", ENDPOINT, "--db", db]), "events --endpoint", ["evil\\x1b[2J"]);
});

test("event and delivery detail views escape fields, headers, query, body, deliveries and attempts", async () => {
  const event = await ok(["event", String(ids.text.event), "--db", db]);
  assertSafe(event, "event (text body)", [
    ...ESCAPED, "evil\\x1b[2J", "evt_\\x1b[2J", "dlv_\\u009b", "key_\\x1b]0;pwned\\x07", "POST\\x7f",
    "x-name\\x7f\\x1b[31m: v", "handler failed \\x1b[2J", "line one \\x1b[2J\\x1b[H\nline two\t", "\\x07\r\nline three", "\\rover",
  ]);
  // Multi-line text stays multi-line in the detail view; a handler error's second line is indented under the first.
  assert.match(event, /\n {2}last error +handler failed .*\n {24}second line \\x1b\]0;pwned\\x07\n/);

  const json = await ok(["event", String(ids.json.event), "--db", db]);
  assertSafe(json, "event (JSON body)", ["Body (JSON)", "\\u001b[2J", "\\u009b31m", "\\u007f", "\\u202etxt.exe", "evt2\\u202etxt.exe"]);

  for (const id of [ids.text.delivery, ids.json.delivery]) {
    assertSafe(await ok(["delivery", String(id), "--db", db]), `delivery ${id}`, ["x-title: \\x1b]0;pwned\\x07", "x-many: \\x1b]52;c;", "x-many: two\\u009b"]);
  }
  assertSafe(await ok(["delivery", String(ids.rejected), "--db", db]), "rejected delivery", ["invalid: bad signature \\x1b[2J", ...ESCAPED]);
});

test("audits, stats and action commands escape endpoint names", async () => {
  assertSafe(await ok(["stats", "--db", db]), "stats", ["evil\\x1b[2J\\x1b[H\\u009b31m\\u0085"]);
  assertSafe(await ok(["ignore", String(ids.text.event), "--db", db]), "ignore", ["(evil\\x1b[2J"]);
  assertSafe(await ok(["replay", String(ids.text.event), "--db", db]), "replay", ["(evil\\x1b[2J"]);
  assertSafe(await ok(["replay-delivery", String(ids.json.delivery), "--db", db]), "replay-delivery", ["(evil\\x1b[2J"]);
  assertSafe(await ok(["prune", "orphans", "--older-than", "3650d", "--limit", "1", "--db", db]), "prune", []);
  assertSafe(await ok(["audits", "--db", db]), "audits", []);
});

test("--json keeps every value exact (DEL, C1 and bidi as \\u escapes, C0 as JSON escapes)", async () => {
  type JsonDelivery = { endpoint: string; eventType: string; providerEventId: string | null; providerDeliveryId: string | null; dedupeKey: string | null; method: string; headers: Record<string, unknown>; query: Record<string, unknown>; body: string; signatureError: string | null };
  const raw = await ok(["delivery", String(ids.text.delivery), "--db", db, "--json"]);
  assert.equal(RAW.exec(raw), null, "raw control character in --json output");
  const delivery = JSON.parse(raw) as JsonDelivery;
  assert.equal(delivery.endpoint, ENDPOINT);
  assert.equal(delivery.eventType, EVENT_TYPE);
  assert.equal(delivery.providerEventId, `evt_${CLEAR}`);
  assert.equal(delivery.providerDeliveryId, `dlv_${C1}`);
  assert.equal(delivery.dedupeKey, `key_${TITLE}`);
  assert.equal(delivery.method, `POST${DEL}`);
  assert.equal(delivery.body, TEXT_BODY);
  assert.deepEqual(delivery.headers, { "x-title": TITLE, [`x-name${DEL}\x1b[31m`]: "v", "x-many": [CLIPBOARD, `two${C1}`] });
  assert.deepEqual(delivery.query, QUERY);

  const rejected = await okJson<JsonDelivery>(["delivery", String(ids.rejected), "--db", db]);
  assert.equal(rejected.signatureError, `bad signature ${NASTY}`);

  const event = await okJson<{ eventType: string; body: string; lastError: string; deliveries: JsonDelivery[]; attempts: Array<{ error: string }> }>(["event", String(ids.json.event), "--db", db]);
  assert.equal(event.eventType, `json.${NASTY}`);
  assert.equal(event.body, JSON_BODY);
  assert.deepEqual(event.deliveries.map((d) => d.headers), [{ "x-title": TITLE, [`x-name${DEL}\x1b[31m`]: "v", "x-many": [CLIPBOARD, `two${C1}`] }]);

  const textEvent = await okJson<{ attempts: Array<{ error: string | null }> }>(["event", String(ids.text.event), "--db", db]);
  assert.ok(textEvent.attempts.some((a) => a.error?.includes(`handler failed ${NASTY}`)), JSON.stringify(textEvent.attempts));

  for (const args of [["events"], ["deliveries"], ["stats"]]) {
    const out = await ok([...args, "--db", db, "--json"]);
    assert.equal(RAW.exec(out), null, `${args[0]} --json has a raw control character`);
    JSON.parse(out);
  }
  const events = await okJson<Array<{ eventType: string; endpoint: string }>>(["events", "--db", db]);
  assert.ok(events.some((e) => e.eventType === EVENT_TYPE && e.endpoint === ENDPOINT));
});
