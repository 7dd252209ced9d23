import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import { Signature } from "@hubspot/api-client";
import { HubspotProvider } from "../src/providers/hubspot.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "9c1d7e4a-3b2f-4a6e-8d5c-7f0e1a2b3c4d";
const URL = "https://hooks.example.com/webhooks/hubspot?portal=62515";
const options = { url: URL };
const batch = (eventId: number, subscriptionType = "contact.propertyChange", attemptNumber = 0) =>
  JSON.stringify([
    { eventId, subscriptionId: 2413855, portalId: 62515, appId: 1160452, occurredAt: 1699999997411, subscriptionType, attemptNumber, objectId: 512, propertyName: "lifecyclestage", propertyValue: "customer", changeSource: "CRM_UI" },
    { eventId: eventId + 1, subscriptionId: 2413856, portalId: 62515, appId: 1160452, occurredAt: 1699999997502, subscriptionType: "deal.creation", attemptNumber, objectId: 8841, changeFlag: "CREATED" },
  ]);
const signedV3 = (body: string | Buffer, timestampMs = NOW * 1000, signature?: string) => ({
  body,
  headers: {
    "X-HubSpot-Signature-v3": signature ?? createHmac("sha256", SECRET).update(`POST${URL}`).update(body).update(String(timestampMs)).digest("base64"),
    "X-HubSpot-Request-Timestamp": String(timestampMs),
    "Content-Type": "application/json",
  },
});

test("hubspot: v3 signatures from @hubspot/api-client are accepted; ours pass Signature.isValid; a one-byte change fails both", async () => {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  const body = batch(1939183417);
  const theirs = Signature.getSignature("POST", "v3", { signature: "", clientSecret: SECRET, requestBody: body, url: URL, timestamp: nowMs });
  assert.equal((await verifyDirect(new HubspotProvider(), signedV3(body, nowMs, theirs), [SECRET], options, now)).valid, true);

  const ours = signedV3(body, nowMs);
  assert.equal((await verifyDirect(new HubspotProvider(), ours, [SECRET], options, now)).valid, true);
  const isValid = (requestBody: string) => Signature.isValid({
    signatureVersion: "v3", signature: ours.headers["X-HubSpot-Signature-v3"], clientSecret: SECRET, requestBody, url: URL, method: "POST", timestamp: nowMs,
  });
  assert.equal(isValid(body), true);

  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new HubspotProvider(), { ...ours, body: changed }, [SECRET], options, now)).valid, false);
  assert.equal(isValid(changed.toString()), false);
});

test("hubspot: legacy v1 and v2 signatures agree with @hubspot/api-client; a one-byte change fails both", async () => {
  const body = batch(1939183417);
  for (const version of ["v1", "v2"] as const) {
    const theirs = Signature.getSignature("POST", version, { signature: "", clientSecret: SECRET, requestBody: body, url: URL });
    const receipt = { body, headers: { "X-HubSpot-Signature-Version": version, "X-HubSpot-Signature": theirs } };
    assert.equal((await verifyDirect(new HubspotProvider(), receipt, [SECRET], options)).valid, true, version);
    const source = version === "v1" ? SECRET + body : `${SECRET}POST${URL}${body}`;
    const ours = createHash("sha256").update(source).digest("hex");
    assert.equal(Signature.isValid({ signatureVersion: version, signature: ours, clientSecret: SECRET, requestBody: body, url: URL, method: "POST" }), true);
    const changedBody = oneByteChanged(body);
    const changed = await verifyDirect(new HubspotProvider(), { ...receipt, body: changedBody }, [SECRET], options);
    assert.equal(changed.signatureError, `hubspot ${version} signature mismatch`);
    assert.equal(Signature.isValid({ signatureVersion: version, signature: ours, clientSecret: SECRET, requestBody: changedBody.toString(), url: URL, method: "POST" }), false);
  }
});

test("hubspot: identity is the first element's eventId; a retried batch is a duplicate", async () => {
  const { receive } = inbox("hubspot", [SECRET], options);
  const first = await receive(signedV3(batch(1939183417)));
  assert.equal(first.delivery.eventType, "contact.propertyChange");
  assert.equal(first.delivery.providerEventId, "1939183417");
  const other = await receive(signedV3(batch(1939183500)));
  assert.equal(other.result.duplicate, false, "another event about the same contact (objectId 512) is a new event");
  const retry = await receive(signedV3(batch(1939183417, "contact.propertyChange", 1)));
  assert.equal(retry.result.duplicate, true, "HubSpot's retry (attemptNumber 1) is a duplicate");
  assert.equal(retry.result.eventId, first.result.eventId);
});

test("hubspot: the ms timestamp must be within toleranceS; the configured url is signed", async () => {
  const body = batch(1);
  const provider = new HubspotProvider();
  assert.equal((await verifyDirect(provider, signedV3(body, (NOW - 300) * 1000), [SECRET], options)).valid, true);
  assert.match((await verifyDirect(provider, signedV3(body, (NOW - 301) * 1000), [SECRET], options)).signatureError ?? "", /hubspot signature timestamp outside tolerance/);
  assert.match((await verifyDirect(provider, signedV3(body, (NOW + 301) * 1000), [SECRET], options)).signatureError ?? "", /outside tolerance/);
  assert.equal((await verifyDirect(provider, signedV3(body, (NOW - 301) * 1000), [SECRET], { ...options, toleranceS: 400 })).valid, true);
  const elsewhere = { url: "https://hooks.example.com/webhooks/hubspot" };
  assert.match((await verifyDirect(provider, signedV3(body), [SECRET], elsewhere)).signatureError ?? "", /hubspot signature mismatch/);
  const badTs = { body, headers: { ...signedV3(body).headers, "X-HubSpot-Request-Timestamp": "17e11" } };
  assert.match((await verifyDirect(provider, badTs, [SECRET], options)).signatureError ?? "", /timestamp is not a number/);
});

test("hubspot: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new HubspotProvider(), {
    headerNames: ["x-hubspot-signature-v3", "x-hubspot-request-timestamp", "x-hubspot-signature", "x-hubspot-signature-version"],
    secrets: [SECRET],
    options,
  });
});

test("hubspot: option validation", async () => {
  await assertRegistrationRejected("hubspot", {}, ["url", "required"]);
  await assertRegistrationRejected("hubspot", { url: "/webhooks/hubspot" }, ["url"]);
  await assertRegistrationRejected("hubspot", { url: "ftp://hooks.example.com/x" }, ["url"]);
  await assertRegistrationRejected("hubspot", { url: 42 }, ["url"]);
  await assertRegistrationRejected("hubspot", { url: URL, toleranceS: "300" }, ["toleranceS"]);
  await assertRegistrationRejected("hubspot", { url: URL, signatureVersion: "v1" }, ["signatureVersion"]);
});
