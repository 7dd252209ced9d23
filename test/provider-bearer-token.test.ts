import assert from "node:assert/strict";
import { test } from "node:test";
import { BearerTokenProvider } from "../src/providers/bearer-token.js";
import { assertBodyTypeAndIdIdentity, assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, verifyDirect } from "./provider-kit.js";

const TOKEN = "bt_Zm9vYmFyYmF6cXV4LTIwMjMtMTEtMTQ";
const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });
const check = (authorization: string | string[] | undefined, secrets = [TOKEN]) =>
  verifyDirect(new BearerTokenProvider(), { body, headers: authorization === undefined ? {} : { Authorization: authorization } }, secrets);

test("bearer-token: Authorization: Bearer <token> must equal one of the secrets", async () => {
  assert.equal((await check(`Bearer ${TOKEN}`)).valid, true);
  assert.equal((await check(`bearer ${TOKEN}`)).valid, true, "scheme is case-insensitive");
  assert.equal((await check(`Bearer ${TOKEN}`, ["old", TOKEN])).valid, true, "rotation");
  for (const wrong of [`Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.toLowerCase()}`]) {
    assert.equal((await check(wrong)).signatureError, "bearer-token token mismatch", wrong);
  }
  for (const malformed of [TOKEN, `Basic ${TOKEN}`, "Bearer", "Bearer ", `Bearer ${TOKEN} extra`, [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]]) {
    assert.match((await check(malformed)).signatureError ?? "", /bearer-token authorization header malformed/, String(malformed));
  }
  assert.equal((await check(undefined)).signatureError, "missing signature header: authorization");
});

test("bearer-token: the Authorization header is never stored", async () => {
  const { receive } = inbox("bearer-token", [TOKEN]);
  const { delivery } = await receive({ body, headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(delivery.signatureValid, true);
  assert.equal(delivery.headers.authorization, "[redacted]");
});

test("bearer-token: identity is body id of a JSON body; other bodies get none", async () => {
  await assertBodyTypeAndIdIdentity("bearer-token", [TOKEN], { Authorization: `Bearer ${TOKEN}` });
});

test("bearer-token: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new BearerTokenProvider(), { headerNames: ["authorization"], secrets: [TOKEN] });
});

test("bearer-token: option validation", async () => {
  await assertRegistrationRejected("bearer-token", { header: "authorization" }, ["header"]);
  await assertRegistrationRejected("bearer-token", {}, ["secret"], []);
});
