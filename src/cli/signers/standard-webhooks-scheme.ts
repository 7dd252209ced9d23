import { randomBytes, sign } from "node:crypto";
import { given, hmac, privateKey, rawEd25519PublicKey, SignError, type SignInput, type Signed } from "./signer.js";

/**
 * The Standard Webhooks / Svix scheme: `<family>-id`, `<family>-timestamp` and
 * `<family>-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the key being the
 * base64 after `whsec_` (else the secret's UTF-8 bytes). With `ed25519` allowed, a PEM Ed25519
 * private key signs `v1a,<base64 Ed25519>` instead, and its public key is reported as `whpk_…`.
 */
export function signStandardWebhook(input: SignInput, provider: string, family: "webhook" | "svix", ed25519: boolean): Signed {
  const id = given(input, `${family}-id`, () => `msg_${randomBytes(18).toString("base64url")}`);
  const ts = given(input, `${family}-timestamp`, () => String(input.timestamp));
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`, "utf8"), input.body]);
  const headers: Array<[string, string]> = [[`${family}-id`, id], [`${family}-timestamp`, ts]];

  if (input.secret.includes("-----BEGIN")) {
    if (!ed25519) throw new SignError(`${provider} signs with a whsec_ secret (HMAC), not a private key`);
    const key = privateKey(provider, input.secret, "ed25519");
    headers.push([`${family}-signature`, `v1a,${sign(null, signed, key).toString("base64")}`]);
    return { headers, verificationKey: `whpk_${rawEd25519PublicKey(key).toString("base64")}` };
  }
  if (input.secret.startsWith("whpk_")) {
    throw new SignError(`${provider}: a whpk_ secret is a public key; sign with the Ed25519 private key (PEM) instead`);
  }
  headers.push([`${family}-signature`, `v1,${hmac("sha256", hmacKey(provider, input.secret), signed).toString("base64")}`]);
  return { headers };
}

function hmacKey(provider: string, secret: string): Buffer {
  if (!secret.startsWith("whsec_")) return Buffer.from(secret, "utf8");
  const encoded = secret.slice("whsec_".length);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new SignError(`${provider}: a whsec_ secret must be followed by base64`);
  return Buffer.from(encoded, encoded.includes("-") || encoded.includes("_") ? "base64url" : "base64");
}
