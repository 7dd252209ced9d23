// Replays of a captured, validly signed request with other unsigned headers: for every provider
// whose identity or event type is not covered by its signature, the replay is a duplicate of
// the original event (the body's SHA-256 is a second identity) and no handler runs again. On
// every engine.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { engineMatrix } from "./support/engines.js";
import { drain, stripeSignature } from "./support.js";

const engines = engineMatrix();

interface Vector {
  request: {
    method: string;
    headers: Record<string, string>;
    query: Record<string, string>;
    body: string;
    secrets: string[];
    options: Record<string, unknown>;
    now: number;
  };
}

/** Per provider, the unsigned headers an attacker can change: identity headers, then type headers. */
const UNSIGNED: Record<string, { identity: string[]; type: string[]; vector?: string }> = {
  github: { identity: ["x-github-delivery"], type: ["x-github-event"] },
  shopify: { identity: ["x-shopify-event-id", "x-shopify-webhook-id"], type: ["x-shopify-topic"] },
  linear: { identity: ["linear-delivery"], type: ["linear-event"] },
  twilio: { identity: ["i-twilio-idempotency-token"], type: [] },
  "lemon-squeezy": { identity: [], type: ["x-event-name"] },
  meta: { identity: [], type: [] },
  postmark: { identity: [], type: [] },
  "token-header": { identity: [], type: [] },
  "bearer-token": { identity: [], type: [] },
  "basic-auth": { identity: [], type: [] },
  discord: { identity: [], type: [], vector: "webhook-event" },
};

const vector = (provider: string, name = "valid") =>
  JSON.parse(readFileSync(new URL(`../providers/${provider}/${name}.json`, import.meta.url), "utf8")) as Vector;

/** Header names as the vector spells them, for a lower-case name (or the name itself). */
function headerName(headers: Record<string, string>, lower: string): string {
  return Object.keys(headers).find((name) => name.toLowerCase() === lower) ?? lower;
}

for (const engine of engines) {
  describe(engine.name, () => {
    for (const [provider, unsigned] of Object.entries(UNSIGNED)) {
      test(`${provider}: a captured request replayed with fresh, missing or other unsigned headers is a duplicate and runs no handler`, async () => {
        const { request } = vector(provider, unsigned.vector);
        const webhooks = await engine.open({ now: () => request.now });
        const endpoint = webhooks.endpoint(provider, { path: `/${provider}`, provider, secrets: request.secrets, providerOptions: request.options });
        let runs = 0;
        endpoint.handle(() => void runs++);
        const send = (headers: Record<string, string>) => endpoint.receive({ body: request.body, headers, query: request.query, method: request.method });

        const original = await send(request.headers);
        assert.equal(original.statusCode, 204, "the captured request is valid");
        assert.equal(original.duplicate, false);

        const replays: Array<[string, Record<string, string>]> = [["the same headers", { ...request.headers }]];
        for (const name of unsigned.identity) {
          const key = headerName(request.headers, name);
          replays.push([`a fresh ${name}`, { ...request.headers, [key]: `forged-${Math.random().toString(36).slice(2)}` }]);
          const { [key]: _removed, ...without } = request.headers;
          replays.push([`no ${name}`, without]);
        }
        if (unsigned.identity.length > 0) {
          const fresh = { ...request.headers };
          for (const name of unsigned.identity) delete fresh[headerName(request.headers, name)];
          replays.push(["every identity header removed", fresh]);
        }
        for (const name of unsigned.type) {
          replays.push([`another ${name}`, { ...request.headers, [headerName(request.headers, name)]: "deployment" }]);
        }
        for (const [what, headers] of replays) {
          const replay = await send(headers);
          assert.equal(replay.statusCode, 204, what);
          assert.equal(replay.duplicate, true, `${what}: a duplicate`);
          assert.equal(replay.eventId, original.eventId, `${what}: the original event`);
        }

        await drain(webhooks, async () => (await webhooks.getEvent(original.eventId!))!.status === "handled");
        assert.equal(runs, 1, "the handler ran once");
        assert.equal((await webhooks.listEvents({ limit: 100 })).length, 1);
        assert.equal((await webhooks.listDeliveries({ limit: 100 })).length, 1 + replays.length);
        await webhooks.close();
      });
    }

    test("a different signed body is a new event; a provider that signs its identity stores no body identity", async () => {
      const { request } = vector("github");
      const { webhooks, sql } = await engine.inbox({ now: () => request.now });
      webhooks.endpoint("github", { path: "/github", provider: "github", secrets: request.secrets });
      const first = await webhooks.receive({ endpoint: "github", body: request.body, headers: request.headers });
      const other = request.body.replace("Retry deliveries with backoff", "Another commit");
      const signature = `sha256=${createHmac("sha256", request.secrets[0]!).update(other).digest("hex")}`;
      const second = await webhooks.receive({ endpoint: "github", body: other, headers: { ...request.headers, "x-github-delivery": "another-delivery", "x-hub-signature-256": signature } });
      assert.equal(second.statusCode, 204);
      assert.equal(second.duplicate, false);
      assert.notEqual(second.eventId, first.eventId);

      const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: ["whsec_x"] });
      const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });
      const paid = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, "whsec_x", request.now) } });
      assert.equal(paid.statusCode, 204);
      // Read through a connection of the test's own: the stored identities are not in the API.
      const identities = await sql.all<{ id: number; body_identity: string | null }>("SELECT id, body_identity FROM knocker_events ORDER BY id");
      assert.equal(identities.length, 3);
      assert.match(identities[0]!.body_identity!, /^[0-9a-f]{64}$/);
      assert.equal(identities[2]!.body_identity, null, "Stripe signs its event id: no second identity");
      await webhooks.close();
    });
  });
}
