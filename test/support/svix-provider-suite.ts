// The shared test suite of the Svix-signed providers (clerk, resend): same scheme, same checks,
// different payloads and identities.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { Webhook } from "svix";
import type { Provider } from "../../src/index.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "../provider-kit.js";

export interface SvixProviderCase {
  name: string;
  Provider: new () => Provider;
  secret: string;
  /** A realistic payload of `type` about one object. */
  event: (type: string) => string;
  firstType: string;
  secondType: string;
  /** What the events are about ("user", "email") and the field holding its id. */
  subject: string;
  objectField: string;
}

export function svixProviderSuite(c: SvixProviderCase): void {
  const receipt = (body: string | Buffer, signature: string, id = "msg_2bHQnXkGQq0YvB8RZp3cT4eS9wF", timestamp = NOW) => ({
    body,
    headers: { "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature, "content-type": "application/json" },
  });
  const ours = (body: string | Buffer, id = "msg_2bHQnXkGQq0YvB8RZp3cT4eS9wF", timestamp = NOW) =>
    `v1,${createHmac("sha256", Buffer.from(c.secret.slice(6), "base64")).update(`${id}.${timestamp}.`).update(body).digest("base64")}`;
  /** Run svix's verify() with the wall clock pinned to NOW. */
  function svixVerify(body: string | Buffer, headers: Record<string, string>): unknown {
    const real = Date.now;
    Date.now = () => NOW * 1000;
    try {
      return new Webhook(c.secret).verify(body, headers);
    } finally {
      Date.now = real;
    }
  }

  test(`${c.name}: svix signatures are accepted; ours pass svix's verify(); a one-byte change fails both`, async () => {
    const body = c.event(c.firstType);
    const theirs = new Webhook(c.secret).sign("msg_1", new Date(NOW * 1000), body);
    assert.equal((await verifyDirect(new c.Provider(), receipt(body, theirs, "msg_1"), [c.secret])).valid, true);
    const signature = ours(body, "msg_1");
    assert.equal((await verifyDirect(new c.Provider(), receipt(body, signature, "msg_1"), [c.secret])).valid, true);
    assert.deepEqual(svixVerify(body, receipt(body, signature, "msg_1").headers), JSON.parse(body));
    const changed = oneByteChanged(body);
    assert.equal((await verifyDirect(new c.Provider(), receipt(changed, signature, "msg_1"), [c.secret])).signatureError, `${c.name} signature mismatch`);
    assert.throws(() => svixVerify(changed, receipt(changed, signature, "msg_1").headers));
  });

  test(`${c.name}: identity is svix-id, not ${c.objectField} — two events about one ${c.subject} stay two; a retry is a duplicate`, async () => {
    const { receive } = inbox(c.name, [c.secret]);
    const original = c.event(c.firstType);
    const first = await receive(receipt(original, ours(original, "msg_a"), "msg_a"));
    assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
    assert.equal(first.delivery.eventType, c.firstType);
    assert.equal(first.delivery.providerEventId, "msg_a");
    assert.equal(first.delivery.providerDeliveryId, null);
    assert.equal(first.delivery.dedupeKey, "msg_a");
    const other = c.event(c.secondType);
    const second = await receive(receipt(other, ours(other, "msg_b"), "msg_b"));
    assert.equal(second.result.duplicate, false, `another event about the same ${c.subject} is a new event`);
    assert.notEqual(second.result.eventId, first.result.eventId);
    const retry = await receive(receipt(original, ours(original, "msg_a", NOW + 120), "msg_a", NOW + 120));
    assert.equal(retry.result.duplicate, true, "Svix retries keep svix-id");
    assert.equal(retry.result.eventId, first.result.eventId);
    const forged = await receive(receipt(other, "v1," + "A".repeat(43) + "=", "msg_c"));
    assert.equal(forged.delivery.signatureValid, false);
    assert.equal(forged.delivery.providerEventId, "msg_c", "header metadata is kept on a rejected receipt");
    assert.equal(forged.delivery.eventType, null, "the body of a rejected receipt is never parsed: no body type");
  });

  test(`${c.name}: rotation, tolerance and malformed headers`, async () => {
    const provider = new c.Provider();
    const body = c.event(c.firstType);
    const check = (signature: string, timestamp = NOW, secrets = [c.secret]) => verifyDirect(provider, receipt(body, signature, undefined, timestamp), secrets);
    assert.equal((await check(ours(body), NOW, ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", c.secret])).valid, true);
    assert.equal((await check(`${ours(body, "other")} ${ours(body)}`)).valid, true);
    assert.equal((await check(ours(body, undefined, NOW - 301), NOW - 301)).signatureError, `${c.name} signature timestamp outside tolerance`);
    assert.equal((await check(ours(body, undefined, NOW + 301), NOW + 301)).signatureError, `${c.name} signature timestamp outside tolerance`);
    for (const malformed of ["", "v1,", ours(body).slice(3), "v1,***"]) {
      assert.match((await check(malformed)).signatureError ?? "", new RegExp(`^${c.name} signature header malformed`), malformed);
    }
    const webhookNames = { "webhook-id": "msg_1", "webhook-timestamp": String(NOW), "webhook-signature": ours(body, "msg_1") };
    assert.equal((await verifyDirect(provider, { body, headers: webhookNames }, [c.secret])).signatureError, "missing signature header: svix-signature");
  });

  test(`${c.name}: arbitrary headers and bodies never throw and never verify without the secret`, async () => {
    await assertNeverVerifiesWithoutSecret(new c.Provider(), { headerNames: ["svix-id", "svix-timestamp", "svix-signature"], secrets: [c.secret] });
  });

  test(`${c.name}: option validation`, () => {
    assertRegistrationRejected(c.name, { toleranceS: "300" }, ["toleranceS"]);
    assertRegistrationRejected(c.name, { signingSecret: c.secret }, ["signingSecret"]);
    assertRegistrationRejected(c.name, {}, ["secret"], []);
    assertRegistrationRejected(c.name, {}, ["secret #2", "malformed"], [c.secret, "whsec_!!not-base64!!"]);
  });
}
