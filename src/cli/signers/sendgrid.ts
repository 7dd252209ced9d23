import { createPublicKey, sign } from "node:crypto";
import { privateKey, type Signer } from "./signer.js";

/**
 * SendGrid Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` = base64 DER ECDSA P-256 /
 * SHA-256 signature of `X-Twilio-Email-Event-Webhook-Timestamp + body`. SendGrid keeps the
 * private key; here you bring one, and configure its public key (base64 SPKI, as SendGrid shows
 * it) as the endpoint's secret.
 */
export const sendgrid: Signer = {
  provider: "sendgrid",
  secret: "an ECDSA P-256 private key in PEM (the endpoint verifies with its public key)",
  sign(input) {
    const key = privateKey("sendgrid", input.secret, "p256");
    const ts = input.header("x-twilio-email-event-webhook-timestamp") ?? String(input.timestamp);
    const signature = sign("sha256", Buffer.concat([Buffer.from(ts, "utf8"), input.body]), { key, dsaEncoding: "der" });
    return {
      headers: [
        ["X-Twilio-Email-Event-Webhook-Signature", signature.toString("base64")],
        ["X-Twilio-Email-Event-Webhook-Timestamp", ts],
      ],
      verificationKey: createPublicKey(key).export({ type: "spki", format: "der" }).toString("base64"),
    };
  },
};
