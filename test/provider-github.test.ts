import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { sign, verify } from "@octokit/webhooks-methods";
import { GithubProvider } from "../src/providers/github.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "gh-webhook-9f2c41d7a6b84e05b1c3";
const issues = (action: string) =>
  JSON.stringify({ action, issue: { id: 1979043124, number: 42, title: "Retry deliveries", state: action === "closed" ? "closed" : "open" }, repository: { id: 35129377, full_name: "acme/knocker" }, sender: { login: "octocat" } });
const receipt = (body: string | Buffer, signature: string, delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958", event = "issues") => ({
  body,
  headers: { "X-Hub-Signature-256": signature, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json" },
});
const ourSignature = (body: string | Buffer) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;

test("github: @octokit/webhooks-methods signatures are accepted; ours pass its verify(); a one-byte change fails both", async () => {
  const body = issues("opened");
  assert.equal((await verifyDirect(new GithubProvider(), receipt(body, await sign(SECRET, body)), [SECRET])).valid, true);
  const ours = ourSignature(body);
  assert.equal((await verifyDirect(new GithubProvider(), receipt(body, ours), [SECRET])).valid, true);
  assert.equal(await verify(SECRET, body, ours), true);
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new GithubProvider(), receipt(changed, ours), [SECRET])).signatureError, "github signature mismatch");
  assert.equal(await verify(SECRET, changed.toString(), ours), false);
});

test("github: identity is X-GitHub-Delivery; a redelivery is a duplicate, another delivery about the same issue is not", async () => {
  const { receive } = inbox("github", [SECRET]);
  const opened = issues("opened");
  const first = await receive(receipt(opened, ourSignature(opened), "delivery-1"));
  assert.equal(first.delivery.eventType, "issues");
  assert.equal(first.delivery.providerEventId, null);
  assert.equal(first.delivery.providerDeliveryId, "delivery-1");
  assert.equal(first.delivery.dedupeKey, "delivery-1");
  const closed = issues("closed");
  const second = await receive(receipt(closed, ourSignature(closed), "delivery-2"));
  assert.equal(second.result.duplicate, false);
  const redelivery = await receive(receipt(opened, ourSignature(opened), "delivery-1"));
  assert.equal(redelivery.result.duplicate, true);
  assert.equal(redelivery.result.eventId, first.result.eventId);
  const ping = JSON.stringify({ zen: "Design for failure.", hook_id: 1 });
  const pinged = await receive(receipt(ping, ourSignature(ping), "delivery-3", "ping"));
  assert.notEqual(pinged.result.eventId, null, "ping is an ordinary event");
});

test("github: rotation and malformed signatures", async () => {
  const body = issues("opened");
  const provider = new GithubProvider();
  assert.equal((await verifyDirect(provider, receipt(body, ourSignature(body)), ["old", SECRET])).valid, true);
  for (const malformed of [ourSignature(body).slice(7), `sha1=${"00".repeat(20)}`, "sha256=", "sha256=xyz", `SHA256=${ourSignature(body).slice(7)}`]) {
    assert.match((await verifyDirect(provider, receipt(body, malformed), [SECRET])).signatureError ?? "", /github signature header malformed/, malformed);
  }
  const duplicated = await verifyDirect(provider, { body, headers: { "x-hub-signature-256": [ourSignature(body), ourSignature(body)] } }, [SECRET]);
  assert.equal(duplicated.valid, false, "a duplicated signature header is not one clean value");
});

test("github: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new GithubProvider(), { headerNames: ["x-hub-signature-256", "x-github-event", "x-github-delivery"], secrets: [SECRET] });
});

test("github: option validation", async () => {
  await assertRegistrationRejected("github", { toleranceS: 300 }, ["toleranceS"]);
  await assertRegistrationRejected("github", {}, ["secret"], []);
});
