import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { MetaProvider } from "../src/providers/meta.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

const APP_SECRET = "3c9a7e21f4b86d05e1a2b3c4d5e6f708";
const VERIFY_TOKEN = "knocker-meta-verify-7Qm2";
const body = JSON.stringify({
  object: "instagram",
  entry: [{ id: "17841405309211844", time: 1699999995, changes: [{ field: "comments", value: { id: "17865799348089039", text: "Love it", media: { id: "17887498072083520" } } }] }],
});
const signed = (payload: string | Buffer, signature = `sha256=${createHmac("sha256", APP_SECRET).update(payload).digest("hex")}`) => ({
  body: payload,
  headers: { "X-Hub-Signature-256": signature, "Content-Type": "application/json" },
});

// Meta publishes no Node verifier; its X-Hub-Signature-256 scheme is byte-for-byte GitHub's, so
// @octokit/webhooks-methods serves as the independent implementation.
test("meta: signatures agree with an independent sha256= HMAC implementation (@octokit/webhooks-methods)", async () => {
  const theirs = await octokitSign(APP_SECRET, body);
  assert.equal((await verifyDirect(new MetaProvider(), signed(body, theirs), [APP_SECRET])).valid, true);

  const ours = signed(body).headers["X-Hub-Signature-256"];
  assert.equal((await verifyDirect(new MetaProvider(), signed(body, ours), [APP_SECRET])).valid, true);
  assert.equal(await octokitVerify(APP_SECRET, body, ours), true);

  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new MetaProvider(), signed(changed, ours), [APP_SECRET])).valid, false);
  assert.equal(await octokitVerify(APP_SECRET, changed.toString(), ours), false);
});

test("meta: event type is body object; no identity is sent, so each distinct body is its own event", async () => {
  const { receive } = inbox("meta", [APP_SECRET]);
  const first = await receive(signed(body));
  assert.equal(first.delivery.eventType, "instagram");
  assert.equal(first.delivery.providerEventId, null);
  assert.equal(first.delivery.providerDeliveryId, null);
  assert.equal(first.delivery.dedupeKey, null);
  const again = await receive(signed(body));
  assert.equal(again.result.duplicate, true, "the same signed bytes again: a replay, deduped by the body's SHA-256");
  assert.equal(again.result.eventId, first.result.eventId);
});

test("meta: GET subscription handshake answers the challenge only for the right verify token", async () => {
  const { receive } = inbox("meta", [APP_SECRET], { verifyToken: VERIFY_TOKEN });
  const query = (token: string, mode = "subscribe") => ({ "hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444" });

  const ok = await receive({ method: "GET", body: "", headers: {}, query: query(VERIFY_TOKEN) });
  assert.equal(ok.result.statusCode, 200);
  assert.deepEqual(ok.result.reply, { contentType: "text/plain", body: "1158201444" });
  assert.equal(ok.result.eventId, null);
  assert.equal(ok.delivery.signatureValid, true);
  assert.deepEqual(ok.delivery.query, { "hub.mode": "subscribe", "hub.verify_token": "[redacted]", "hub.challenge": "1158201444" }, "the verify token is never stored");

  for (const [token, mode, why] of [["nope", "subscribe", "hub.verify_token mismatch"], [VERIFY_TOKEN, "unsubscribe", "hub.mode is not subscribe"]] as const) {
    const refused = await receive({ method: "GET", body: "", headers: {}, query: query(token, mode) });
    assert.equal(refused.result.statusCode, 403);
    assert.equal(refused.result.reply, undefined);
    assert.equal(refused.delivery.signatureError, `meta handshake refused: ${why}`);
  }
  const noChallenge = await receive({ method: "GET", body: "", headers: {}, query: { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN } });
  assert.equal(noChallenge.result.statusCode, 403);

  // A POST is never a handshake, whatever its query says.
  const post = await receive({ method: "POST", body: "", headers: {}, query: query(VERIFY_TOKEN) });
  assert.equal(post.result.statusCode, 401);
  assert.equal(post.delivery.signatureError, "missing signature header: x-hub-signature-256");
});

test("meta: handshake is refused with 403 when no verifyToken is configured", async () => {
  const { receive } = inbox("meta", [APP_SECRET]);
  const refused = await receive({ method: "GET", body: "", headers: {}, query: { "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1" } });
  assert.equal(refused.result.statusCode, 403);
  assert.match(refused.delivery.signatureError ?? "", /verifyToken option is not configured/);
});

test("meta: arbitrary headers, queries and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new MetaProvider(), {
    headerNames: ["x-hub-signature-256", "x-hub-signature"],
    queryKeys: ["hub.mode", "hub.verify_token", "hub.challenge"],
    secrets: [APP_SECRET],
    options: { verifyToken: VERIFY_TOKEN },
  });
});

test("meta: option validation", async () => {
  await assertRegistrationRejected("meta", { verifyToken: 42 }, ["verifyToken"]);
  await assertRegistrationRejected("meta", { verifyToken: "" }, ["verifyToken"]);
  await assertRegistrationRejected("meta", { verify_token: "x" }, ["verify_token"]);
});
