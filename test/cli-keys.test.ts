// `knocker keys --blocked`: the built bin against a real inbox with blocked ordering keys, on
// every engine (a SQLite file, or a Postgres database through --db postgres://…).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { open } from "../src/index.js";
import { buildBin, fails, ok, okJson, tableRows } from "./support/cli.js";
import { drain } from "./support.js";
import { engineMatrix } from "./support/engines.js";

before(() => buildBin());

for (const engine of engineMatrix()) {
  describe(engine.name, () => {
    test("keys --blocked lists each blocked key, its blocking event and how many wait; --endpoint, --limit, --json", async () => {
      const { db } = await engine.location();
      const webhooks = open(db, { retryBackoff: { initialS: 3600, maxS: 3600 } });
      const byCustomer = { orderingKey: (r: { json<T>(): T }) => r.json<{ customer?: string }>().customer ?? null };
      const orders = webhooks.endpoint("orders", { path: "/orders", ...byCustomer });
      const billing = webhooks.endpoint("billing", { path: "/billing", ...byCustomer });
      const send = async (ep: typeof orders, customer: string, n: number) => (await ep.receive({ body: JSON.stringify({ customer, n }) })).eventId!;
      orders.handle((event) => {
        if (event.json<{ n: number }>().n === 0) throw new Error("first event fails");
      });
      billing.handle((event) => {
        if (event.json<{ n: number }>().n === 0) throw new Error("first event fails");
      });
      const heads = { a: await send(orders, "cus_a", 0), b: await send(orders, "cus_b", 0), c: await send(billing, "cus_c", 0) };
      for (let n = 1; n <= 3; n++) await send(orders, "cus_a", n);
      await send(orders, "cus_b", 1);
      await send(billing, "cus_c", 1);
      await drain(webhooks, async () => (await webhooks.listBlockedKeys()).length === 3 &&
        (await Promise.all(Object.values(heads).map((id) => webhooks.getEvent(id)))).every((e) => e!.status === "failed"));
      await webhooks.close();

      const text = await ok(["keys", "--blocked", "--db", db]);
      assert.equal(text.split("\n")[0]!.trim().split(/ {2,}/).join("|"), "ENDPOINT|KEY|BLOCKED BY|STATUS|WAITING");
      assert.deepEqual(tableRows(text), [
        ["orders", "cus_a", String(heads.a), "failed", "3"],
        ["billing", "cus_c", String(heads.c), "failed", "1"],
        ["orders", "cus_b", String(heads.b), "failed", "1"],
      ]);
      assert.deepEqual(tableRows(await ok(["keys", "--blocked", "--endpoint", "billing", "--db", db])), [["billing", "cus_c", String(heads.c), "failed", "1"]]);
      assert.deepEqual(await okJson(["keys", "--blocked", "--limit", "1", "--db", db]),
        [{ endpoint: "orders", key: "cus_a", blockingEventId: heads.a, blockingStatus: "failed", waiting: 3 }]);
      assert.equal(await ok(["keys", "--blocked", "--endpoint", "nobody", "--db", db]), "No key is blocked.\n");
      assert.deepEqual(await okJson(["keys", "--blocked", "--endpoint", "nobody", "--db", db]), []);

      assert.equal(await fails(2, ["keys", "--db", db]), "knocker: knocker keys lists the blocked keys: pass --blocked");
      assert.match(await fails(2, ["keys", "--blocked", "--limit", "0", "--db", db]), /^knocker: .*limit/);
    });
  });
}
