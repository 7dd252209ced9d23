import { signStandardWebhook } from "./standard-webhooks-scheme.js";
import type { Signer } from "./signer.js";

/** Clerk: Svix-signed, `svix-id`, `svix-timestamp`, `svix-signature: v1,<base64 HMAC-SHA256>`. */
export const clerk: Signer = {
  provider: "clerk",
  secret: "the endpoint's signing secret, whsec_<base64>",
  sign: (input) => signStandardWebhook(input, "clerk", "svix", false),
};
