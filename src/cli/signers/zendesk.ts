import { randomInt } from "node:crypto";
import { given, hmac, isoSeconds, type Signer } from "./signer.js";

/**
 * Zendesk: `X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256 of timestamp + body>` with
 * `X-Zendesk-Webhook-Signature-Timestamp` in ISO-8601; `X-Zendesk-Webhook-Invocation-Id` numeric.
 */
export const zendesk: Signer = {
  provider: "zendesk",
  secret: "the webhook's signing secret",
  sign(input) {
    const ts = given(input, "x-zendesk-webhook-signature-timestamp", () => isoSeconds(input.timestamp));
    return {
      headers: [
        ["X-Zendesk-Webhook-Invocation-Id", given(input, "x-zendesk-webhook-invocation-id", () => String(randomInt(1e9, 1e10)))],
        ["X-Zendesk-Webhook-Signature-Timestamp", ts],
        ["X-Zendesk-Webhook-Signature", hmac("sha256", input.secret, ts, input.body).toString("base64")],
      ],
    };
  },
};
