// visibilityTimeoutS is a lower bound on how long a claim lasts. Timestamps are whole seconds,
// so a claim made late in a second must not expire early: a handler that runs for 600 ms under
// visibilityTimeoutS: 1 keeps its claim even when it was claimed at x.85–x.95 s (real clock).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { open } from "../src/index.js";
import { sleep } from "./support/processes.js";
import { engineMatrix } from "./support/engines.js";

const engines = engineMatrix();

const HANDLER_MS = 600;
const SAMPLES = 3;

for (const engine of engines) {
  describe(engine.name, () => {
    test("a claim made late in a second still lasts visibilityTimeoutS: a 600 ms handler under a 1 s timeout keeps its claim", async (t) => {
      const webhooks = await engine.open({ visibilityTimeoutS: 1, maxAttempts: 1, durability: "normal" });
      t.after(() => webhooks.close());
      const acme = webhooks.endpoint("acme", { path: "/acme" });
      const startedAt: number[] = [];
      acme.handle(() => {
        startedAt.push(Date.now());
        const end = Date.now() + HANDLER_MS;
        while (Date.now() < end) {
          // a slow but not too slow handler
        }
      });
      const errors: unknown[] = [];
      const controller = new AbortController();
      const running = webhooks.runWorker({ signal: controller.signal, onError: (error) => errors.push(error) });

      const ids: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        // Receive (and so claim, at once: the worker is woken by this Knocker's commit) late in a second.
        while (Date.now() % 1000 < 850 || Date.now() % 1000 > 900) await sleep(5);
        ids.push((await acme.receive({ body: "{}", dedupeKey: `slow-${i}` })).eventId!);
        const deadline = Date.now() + 10_000;
        while ((await webhooks.getEvent(ids[i]!))!.status === "received" && Date.now() < deadline) await sleep(10);
      }
      controller.abort();
      await running;

      t.diagnostic(`handler starts at ms-of-second: ${startedAt.map((ms) => ms % 1000).join(", ")}`);
      assert.deepEqual(errors.map((e) => (e as { code?: string }).code), [], "no claim may be lost");
      for (const id of ids) {
        const event = (await webhooks.getEvent(id))!;
        assert.equal(event.status, "handled", `event ${id}: ${event.lastError ?? ""}`);
      }
      assert.equal(startedAt.length, SAMPLES);
    });
  });
}
