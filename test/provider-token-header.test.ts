import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenHeaderProvider } from "../src/providers/token-header.js";
import { assertBodyTypeAndIdIdentity, assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, verifyDirect } from "./provider-kit.js";

const TOKEN = "kt_5f0c2a9e7b3d41c68e2f9a1b7c4d0e63";
const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });

test("token-header: the default header must carry one of the secrets, compared exactly", async () => {
  const provider = new TokenHeaderProvider();
  assert.equal((await verifyDirect(provider, { body, headers: { "X-Knocker-Token": TOKEN } }, [TOKEN])).valid, true);
  assert.equal((await verifyDirect(provider, { body, headers: { "x-knocker-token": TOKEN } }, ["old", TOKEN])).valid, true, "rotation");
  for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), ` ${TOKEN}`, "", `${TOKEN}, ${TOKEN}`]) {
    const result = await verifyDirect(provider, { body, headers: { "x-knocker-token": wrong } }, [TOKEN]);
    assert.equal(result.signatureError, "token-header token mismatch", JSON.stringify(wrong));
  }
  const duplicated = await verifyDirect(provider, { body, headers: { "x-knocker-token": [TOKEN, TOKEN] } }, [TOKEN]);
  assert.equal(duplicated.valid, false, "a header sent twice is not the token");
  assert.equal((await verifyDirect(provider, { body, headers: {} }, [TOKEN])).signatureError, "missing signature header: x-knocker-token");
});

test("token-header: option header picks another header, and that header is never stored", async () => {
  const { receive } = inbox("token-header", [TOKEN], { header: "X-Webhook-Token" });
  const ok = await receive({ body, headers: { "x-webhook-token": TOKEN, "x-knocker-token": "ignored" } });
  assert.equal(ok.delivery.signatureValid, true);
  assert.equal(ok.delivery.headers["x-webhook-token"], "[redacted]");
  const wrong = await receive({ body, headers: { "X-Webhook-Token": "guess" } });
  assert.equal(wrong.result.statusCode, 401);
  assert.equal(wrong.delivery.headers["x-webhook-token"], "[redacted]", "a wrong token is not stored either");
  const missing = await receive({ body, headers: { "x-knocker-token": TOKEN } });
  assert.equal(missing.delivery.signatureError, "missing signature header: x-webhook-token");

  const defaults = inbox("token-header", [TOKEN]);
  const stored = await defaults.receive({ body, headers: { "x-knocker-token": TOKEN } });
  assert.equal(stored.delivery.headers["x-knocker-token"], "[redacted]");
});

test("token-header: identity is body id of a JSON body; other bodies get none", async () => {
  await assertBodyTypeAndIdIdentity("token-header", [TOKEN], { "x-knocker-token": TOKEN });
});

test("token-header: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new TokenHeaderProvider(), { headerNames: ["x-knocker-token", "authorization"], secrets: [TOKEN] });
});

test("token-header: option validation", async () => {
  await assertRegistrationRejected("token-header", { header: 42 }, ["header"]);
  await assertRegistrationRejected("token-header", { header: "" }, ["header"]);
  await assertRegistrationRejected("token-header", { header: "x token" }, ["header"]);
  await assertRegistrationRejected("token-header", { headerName: "x-token" }, ["headerName"]);
});
