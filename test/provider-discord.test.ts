import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { test } from "node:test";
import { verifyKey } from "discord-interactions";
import { KnockerError } from "../src/index.js";
import { DiscordProvider } from "../src/providers/discord.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyHex: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex") };
}
const APP = keyPair();
const timestamp = String(NOW);
const signed = (body: string | Buffer, key = APP.privateKey, ts = timestamp) => ({
  body,
  headers: {
    "X-Signature-Ed25519": sign(null, Buffer.concat([Buffer.from(ts), Buffer.from(body)]), key).toString("hex"),
    "X-Signature-Timestamp": ts,
    "Content-Type": "application/json",
  },
});
const interaction = (id: string, commandName = "status") =>
  JSON.stringify({ application_id: "1174771536211640320", id, token: "aW50ZXJhY3Rpb24", type: 2, version: 1, data: { id: "1174772316830363699", name: commandName, type: 1 }, guild_id: "1174771730286276628" });
const webhookEvent = (type: string) =>
  JSON.stringify({ version: 1, application_id: "1174771536211640320", type: 1, event: { type, timestamp: "2023-11-14T22:13:18.064834", data: { integration_type: 1, user: { id: "80351110224678912" } } } });

test("discord: a signature we accept is accepted by discord-interactions' verifyKey; a one-byte change is rejected by both", async () => {
  const body = interaction("1175154846934585354");
  const receipt = signed(body);
  assert.equal((await verifyDirect(new DiscordProvider(), receipt, [APP.publicKeyHex])).valid, true);
  assert.equal(await verifyKey(body, receipt.headers["X-Signature-Ed25519"], timestamp, APP.publicKeyHex), true);

  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new DiscordProvider(), { ...receipt, body: changed }, [APP.publicKeyHex])).valid, false);
  assert.equal(await verifyKey(changed, receipt.headers["X-Signature-Ed25519"], timestamp, APP.publicKeyHex), false);

  const otherTimestamp = { ...receipt, headers: { ...receipt.headers, "X-Signature-Timestamp": String(NOW + 1) } };
  assert.equal((await verifyDirect(new DiscordProvider(), otherTimestamp, [APP.publicKeyHex])).valid, false);
  assert.equal(await verifyKey(body, receipt.headers["X-Signature-Ed25519"], String(NOW + 1), APP.publicKeyHex), false);
});

test("discord: interactions are identified by body id; a redelivered interaction is a duplicate", async () => {
  const { receive } = inbox("discord", [APP.publicKeyHex]);
  const first = await receive(signed(interaction("1175154846934585354")));
  assert.equal(first.delivery.eventType, "2");
  assert.equal(first.delivery.providerEventId, "1175154846934585354");
  const second = await receive(signed(interaction("1175154846934585999")));
  assert.notEqual(second.result.eventId, first.result.eventId);
  const again = await receive(signed(interaction("1175154846934585354")));
  assert.equal(again.result.duplicate, true);
  assert.equal(again.result.eventId, first.result.eventId);
});

test("discord: webhook events carry event.type and no identity, so each distinct body is its own event", async () => {
  const { receive } = inbox("discord", [APP.publicKeyHex]);
  const body = webhookEvent("APPLICATION_AUTHORIZED");
  const first = await receive(signed(body));
  assert.equal(first.delivery.eventType, "APPLICATION_AUTHORIZED");
  assert.equal(first.delivery.providerEventId, null);
  assert.equal(first.delivery.dedupeKey, null);
  const again = await receive(signed(body));
  assert.equal(again.result.duplicate, true, "the same signed bytes again: a replay, deduped by the body's SHA-256");
  assert.equal(again.result.eventId, first.result.eventId);
  const other = await receive(signed(webhookEvent("ENTITLEMENT_CREATE")));
  assert.equal(other.result.duplicate, false);
});

test("discord: interaction PING is answered {\"type\":1}; webhook-event PING gets 204; neither becomes an event", async () => {
  const { receive } = inbox("discord", [APP.publicKeyHex]);
  const ping = await receive(signed(JSON.stringify({ application_id: "1174771536211640320", id: "1175154001234567890", token: "t", type: 1, version: 1 })));
  assert.equal(ping.result.statusCode, 200);
  assert.deepEqual(ping.result.reply, { contentType: "application/json", body: "{\"type\":1}" });
  assert.equal(ping.result.eventId, null);
  assert.equal(ping.delivery.signatureValid, true);

  const webhookPing = await receive(signed(JSON.stringify({ version: 1, application_id: "1174771536211640320", type: 0 })));
  assert.equal(webhookPing.result.statusCode, 204);
  assert.equal(webhookPing.result.reply, undefined);
  assert.equal(webhookPing.result.eventId, null);
  assert.equal(webhookPing.delivery.signatureValid, true);

  const forged = await receive(signed(JSON.stringify({ type: 1 }), keyPair().privateKey));
  assert.equal(forged.result.statusCode, 401);
  assert.equal(forged.result.reply, undefined);
});

test("discord: key rotation, malformed keys and malformed signatures", async () => {
  const next = keyPair();
  const body = interaction("1");
  assert.equal((await verifyDirect(new DiscordProvider(), signed(body, next.privateKey), [APP.publicKeyHex, next.publicKeyHex])).valid, true);
  const badKey = await verifyDirect(new DiscordProvider(), signed(body), ["zz", APP.publicKeyHex.slice(2)]);
  assert.match(badKey.signatureError ?? "", /discord public key malformed/);
  assert.throws(
    () => inbox("discord", [APP.publicKeyHex, "not-a-public-key"]),
    (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_SECRET" && /discord/.test(e.message) && !e.message.includes("not-a-public-key"),
    "a malformed public key is refused at registration",
  );
  const shortSignature = await verifyDirect(new DiscordProvider(), { ...signed(body), headers: { "x-signature-ed25519": "00", "x-signature-timestamp": timestamp } }, [APP.publicKeyHex]);
  assert.match(shortSignature.signatureError ?? "", /discord signature header malformed/);
});

test("discord: arbitrary headers and bodies never throw and never verify without the private key", async () => {
  await assertNeverVerifiesWithoutSecret(new DiscordProvider(), {
    headerNames: ["x-signature-ed25519", "x-signature-timestamp"],
    secrets: [APP.publicKeyHex],
  });
});

test("discord: option validation", async () => {
  await assertRegistrationRejected("discord", { toleranceS: 5 }, ["toleranceS"], [APP.publicKeyHex]);
  await assertRegistrationRejected("discord", {}, ["secret"], []);
});
