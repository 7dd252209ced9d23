import { sign } from "node:crypto";
import { privateKey, rawEd25519PublicKey, type Signer } from "./signer.js";

/**
 * Discord: `X-Signature-Ed25519: <hex Ed25519 signature of X-Signature-Timestamp + body>`.
 * Discord keeps the private key; here you bring one, and configure its public key (32 bytes,
 * hex, as the developer portal shows it) as the endpoint's secret.
 */
export const discord: Signer = {
  provider: "discord",
  secret: "an Ed25519 private key in PEM (the endpoint verifies with its hex public key)",
  sign(input) {
    const key = privateKey("discord", input.secret, "ed25519");
    const ts = input.header("x-signature-timestamp") ?? String(input.timestamp);
    return {
      headers: [
        ["X-Signature-Ed25519", sign(null, Buffer.concat([Buffer.from(ts, "utf8"), input.body]), key).toString("hex")],
        ["X-Signature-Timestamp", ts],
      ],
      verificationKey: rawEd25519PublicKey(key).toString("hex"),
    };
  },
};
