import { signStandardWebhook } from "./standard-webhooks-scheme.js";
import type { Signer } from "./signer.js";

/** Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (v1 HMAC, or v1a Ed25519). */
export const standardWebhooks: Signer = {
  provider: "standard-webhooks",
  secret: "whsec_<base64> (v1, HMAC) or an Ed25519 private key in PEM (v1a)",
  sign: (input) => signStandardWebhook(input, "standard-webhooks", "webhook", true),
};
