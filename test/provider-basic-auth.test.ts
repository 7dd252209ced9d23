import assert from "node:assert/strict";
import { test } from "node:test";
import { BasicAuthProvider } from "../src/providers/basic-auth.js";
import { assertBodyTypeAndIdIdentity, assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, verifyDirect } from "./provider-kit.js";

const CREDENTIALS = "knocker:Vq7#pL2m:9xRt";
const basic = (credentials: string) => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
const body = JSON.stringify({ id: "evt_1", type: "invoice.paid" });
const check = (authorization: string | undefined, secrets = [CREDENTIALS]) =>
  verifyDirect(new BasicAuthProvider(), { body, headers: authorization === undefined ? {} : { Authorization: authorization } }, secrets);

test("basic-auth: the decoded user:pass must equal one of the secrets", async () => {
  assert.equal((await check(basic(CREDENTIALS))).valid, true);
  assert.equal((await check(`basic ${Buffer.from(CREDENTIALS).toString("base64")}`)).valid, true, "scheme is case-insensitive");
  assert.equal((await check(basic(CREDENTIALS), ["knocker:old", CREDENTIALS])).valid, true, "rotation");
  assert.equal((await check(basic("jörg:päss"), ["jörg:päss"])).valid, true, "UTF-8 credentials");
  // What fetch() sends for https://user:pass@host is the same header.
  const url = new URL("https://knocker:s3cret@hooks.example.com/");
  assert.equal((await check(basic(`${url.username}:${url.password}`), ["knocker:s3cret"])).valid, true);
  for (const wrong of ["knocker:Vq7#pL2m", "admin:Vq7#pL2m:9xRt", `${CREDENTIALS} `, "knocker"]) {
    assert.equal((await check(basic(wrong))).signatureError, "basic-auth credentials mismatch", wrong);
  }
  for (const malformed of ["Basic", "Basic !!!", `Bearer ${CREDENTIALS}`, CREDENTIALS]) {
    assert.match((await check(malformed)).signatureError ?? "", /basic-auth authorization header malformed/, malformed);
  }
  assert.equal((await check(undefined)).signatureError, "missing signature header: authorization");
});

test("basic-auth: the Authorization header is never stored", async () => {
  const { receive } = inbox("basic-auth", [CREDENTIALS]);
  const { delivery } = await receive({ body, headers: { Authorization: basic(CREDENTIALS) } });
  assert.equal(delivery.signatureValid, true);
  assert.equal(delivery.headers.authorization, "[redacted]");
});

test("basic-auth: identity is body id of a JSON body; other bodies get none", async () => {
  await assertBodyTypeAndIdIdentity("basic-auth", [CREDENTIALS], { Authorization: basic(CREDENTIALS) });
});

test("basic-auth: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new BasicAuthProvider(), { headerNames: ["authorization"], secrets: [CREDENTIALS] });
});

test("basic-auth: option validation", async () => {
  await assertRegistrationRejected("basic-auth", { realm: "webhooks" }, ["realm"]);
  await assertRegistrationRejected("basic-auth", {}, ["secret"], []);
});
