// Runs every binding-neutral conformance vector in providers/<name>/*.json through the real
// receive() on a real SQLite file, and checks the stored delivery row and the answer.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { open } from "../src/index.js";
import type { Vector } from "../providers/generate/write-vectors.js";
import { tempDbPath } from "./support.js";

const root = new URL("../providers/", import.meta.url).pathname;
const providers = readdirSync(root).filter((name) => name !== "generate" && statSync(join(root, name)).isDirectory()).sort();

/** The providers of PROVIDERS.md whose scheme is timed (they take a `toleranceS` option). */
const TIMED = ["clerk", "hubspot", "linear", "paddle", "resend", "sendgrid", "slack", "standard-webhooks", "stripe", "zendesk"];

test("vectors exist for all 21 curated providers, with the required cases", async () => {
  const webhooks = open(tempDbPath());
  assert.deepEqual(providers, Object.keys(webhooks.providerVersions()).sort());
  await webhooks.close();
  for (const provider of providers) {
    const cases = readdirSync(join(root, provider)).map((file) => file.replace(/\.json$/, ""));
    const required = ["valid", "tampered-body", "wrong-secret", "missing-signature-header", "rotation-second-secret"];
    if (TIMED.includes(provider)) required.push("expired-timestamp", "future-timestamp");
    for (const name of required) assert.ok(cases.includes(name), `${provider} has a "${name}" vector`);
  }
});

for (const provider of providers) {
  describe(`${provider} vectors`, () => {
    const files = readdirSync(join(root, provider)).filter((file) => file.endsWith(".json")).sort();
    const path = tempDbPath(`${provider}.db`);
    const webhooks = open(path);
    after(() => webhooks.close());
    files.forEach((file, index) => {
      const vector = JSON.parse(readFileSync(join(root, provider, file), "utf8")) as Vector;
      test(`${file}: ${vector.description}`, async () => {
        const { request, expected } = vector;
        // Each vector pins its own clock, so each gets its own inbox on the shared file.
        const inbox = open(path, { now: () => request.now });
        try {
          const endpoint = inbox.endpoint(`${provider}-${index}`, {
            path: `/${provider}/${index}`,
            provider,
            secrets: request.secrets,
            providerOptions: request.options ?? {},
          });
          const body = request.bodyBase64 !== undefined ? Buffer.from(request.bodyBase64, "base64") : Buffer.from(request.body ?? "", "utf8");
          const result = await endpoint.receive({ body, headers: request.headers, query: request.query ?? {}, method: request.method ?? "POST" });
          const delivery = (await inbox.getDelivery(result.deliveryId!))!;
          assert.equal(delivery.signatureValid, expected.valid, `valid (error: ${delivery.signatureError})`);
          if (expected.valid) assert.equal(delivery.signatureError, null);
          if (expected.errorContains !== undefined) assert.ok(delivery.signatureError?.includes(expected.errorContains), `error "${delivery.signatureError}" contains "${expected.errorContains}"`);
          for (const key of ["eventType", "providerEventId", "providerDeliveryId"] as const) {
            // An invalid vector pins all three: what its headers carry, null for the rest (verify
            // before parse: a rejected body is never parsed). A valid one pins the keys it names.
            if (!expected.valid) assert.ok(key in expected, `an invalid vector states its ${key}`);
            if (key in expected) assert.equal(delivery[key], expected[key], key);
          }
          const status = expected.statusCode ?? (expected.valid ? (expected.reply ? 200 : 204) : 401);
          assert.equal(result.statusCode, status);
          assert.deepEqual(result.reply, expected.reply);
          assert.equal(delivery.eventId, result.eventId, "the stored delivery links the event the result names");
          if (!expected.valid || status !== 204 || expected.reply) assert.equal(result.eventId, null, "no event for rejected receipts and handshakes");
          assert.deepEqual(delivery.body, body);
        } finally {
          await inbox.close();
        }
      });
    });
  });
}
