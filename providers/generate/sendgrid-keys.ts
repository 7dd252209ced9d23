// A fixed P-256 key pair for the sendgrid vectors and tests (derived from a constant private
// scalar, so the verification key in the vectors never changes), and a signer following
// SendGrid's published algorithm: base64 DER ECDSA P-256/SHA-256 over `timestamp + body`.
import { createECDH, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";

export function p256KeyPair(privateHex: string): { privateKey: KeyObject; publicKeyBase64: string; publicKeyPem: string } {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(privateHex, "hex"));
  const point = ecdh.getPublicKey();
  const b64url = (bytes: Buffer) => bytes.toString("base64url");
  const jwk = { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) };
  const privateKey = createPrivateKey({ key: { ...jwk, d: b64url(Buffer.from(privateHex, "hex")) }, format: "jwk" });
  const publicKey = createPublicKey({ key: jwk, format: "jwk" });
  return {
    privateKey,
    publicKeyBase64: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

export function sendgridSignature(privateKey: KeyObject, timestamp: number | string, body: string | Buffer): string {
  return sign("sha256", Buffer.concat([Buffer.from(String(timestamp)), Buffer.from(body)]), { key: privateKey, dsaEncoding: "der" }).toString("base64");
}

export const PRIMARY = p256KeyPair("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
export const SECONDARY = p256KeyPair("0f56db78ca460b055c500064824bed999a25aaf48ebb519ac201537b85479813");
