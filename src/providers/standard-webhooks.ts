import { StandardWebhooksSigned } from "./standard-webhooks-scheme.js";

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` (the `svix-*` names are accepted too) — `v1,<base64 HMAC-SHA256>` and
 * `v1a,<base64 Ed25519>` entries over `id.timestamp.body`; see standard-webhooks-scheme.ts.
 * Event type: body `type`. Identity (provider event id): `webhook-id`, the message id every
 * retry keeps.
 */
export class StandardWebhooksProvider extends StandardWebhooksSigned {
  readonly name = "standard-webhooks";

  constructor() {
    super(["webhook", "svix"]);
  }
}
