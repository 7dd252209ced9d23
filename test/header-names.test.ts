// Header and query names that collide with Object.prototype members (`constructor`, `__proto__`,
// `toString`, `hasOwnProperty`) are stored exactly as received, on every input shape, and read back
// the same way from the library and from `knocker delivery --json`.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { open } from "../src/index.js";
import { buildBin, okJson } from "./support/cli.js";
import { tempDbPath } from "./support.js";

before(() => buildBin());

/** An own `__proto__` key, as JSON.parse makes one. */
const own = (json: string) => JSON.parse(json) as Record<string, string | string[]>;

/** Own keys and values, prototype aside: what was stored. */
const entries = (map: object) => Object.keys(map).sort().map((key) => [key, (map as Record<string, unknown>)[key]]);

test("prototype-named headers and query parameters round-trip through receive(), getDelivery() and getEvent()", async () => {
  const path = tempDbPath("header-names.db");
  const webhooks = open(path);
  try {
    const trusted = webhooks.endpoint("trusted", { path: "/trusted" });
    const cases: Array<{ name: string; headers: unknown; query: unknown; wantHeaders: object; wantQuery: object }> = [];

    const plainHeaders = own('{"__proto__":"proto-value","Constructor":"ctor-value","toString":["a","b"],"hasOwnProperty":"x","valueOf":"1"}');
    const definedHeaders: Record<string, string> = {};
    Object.defineProperty(definedHeaders, "__proto__", { value: "defined", enumerable: true });
    definedHeaders.constructor = "c" as never;
    cases.push({
      name: "plain object headers (JSON.parse) + plain object query",
      headers: plainHeaders,
      query: own('{"__proto__":["q1","q2"],"constructor":"qc","toString":"qt"}'),
      wantHeaders: own('{"__proto__":"proto-value","constructor":"ctor-value","tostring":["a","b"],"hasownproperty":"x","valueof":"1"}'),
      wantQuery: own('{"__proto__":["q1","q2"],"constructor":"qc","toString":"qt"}'),
    });
    cases.push({
      name: "plain object headers (defineProperty) + URLSearchParams",
      headers: definedHeaders,
      query: new URLSearchParams("__proto__=1&constructor=2&__proto__=3&hasOwnProperty=4"),
      wantHeaders: own('{"__proto__":"defined","constructor":"c"}'),
      wantQuery: own('{"__proto__":["1","3"],"constructor":"2","hasOwnProperty":"4"}'),
    });
    const whatwg = new Headers();
    whatwg.append("constructor", "w1");
    whatwg.append("__proto__", "w2");
    whatwg.append("toString", "w3");
    cases.push({
      name: "WHATWG Headers",
      headers: whatwg,
      query: new URLSearchParams("constructor=only"),
      wantHeaders: own('{"__proto__":"w2","constructor":"w1","tostring":"w3"}'),
      wantQuery: own('{"constructor":"only"}'),
    });

    for (const c of cases) {
      const result = await trusted.receive({ body: "{}", headers: c.headers as never, query: c.query as never });
      assert.ok(result.eventId !== null, c.name);
      const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
      const event = (await webhooks.getEvent(result.eventId!))!;
      for (const [what, row] of [["delivery", delivery], ["event", event]] as const) {
        assert.deepEqual(entries(row.headers), entries(c.wantHeaders), `${c.name}: ${what} headers`);
        assert.deepEqual(entries(row.query), entries(c.wantQuery), `${c.name}: ${what} query`);
        // Nothing leaked into a prototype: `constructor` is the stored string, not Object.
        if ("constructor" in c.wantHeaders) assert.equal(Object.getOwnPropertyDescriptor(row.headers, "constructor")?.value, (c.wantHeaders as Record<string, unknown>).constructor);
      }
      const shown = await okJson<{ headers: object; query: object }>(["delivery", String(result.deliveryId), "--db", path]);
      assert.deepEqual(entries(shown.headers), entries(c.wantHeaders), `${c.name}: knocker delivery --json headers`);
      assert.deepEqual(entries(shown.query), entries(c.wantQuery), `${c.name}: knocker delivery --json query`);
    }

    // Explicit ingest() takes the same path.
    const ingested = await webhooks.ingest({ endpoint: "trusted", body: "{}", headers: own('{"__proto__":"i"}'), query: own('{"__proto__":"j"}'), eventType: "x" });
    const delivery = (await webhooks.getDelivery(ingested.deliveryId!))!;
    assert.deepEqual(entries(delivery.headers), [["__proto__", "i"]]);
    assert.deepEqual(entries(delivery.query), [["__proto__", "j"]]);
  } finally {
    await webhooks.close();
  }
});
