import { signStandardWebhook } from "./standard-webhooks-scheme.js";
import type { Signer } from "./signer.js";

/** Resend: Svix-signed, `svix-id`, `svix-timestamp`, `svix-signature: v1,<base64 HMAC-SHA256>`. */
export const resend: Signer = {
  provider: "resend",
  secret: "the webhook's signing secret, whsec_<base64>",
  sign: (input) => signStandardWebhook(input, "resend", "svix", false),
};
