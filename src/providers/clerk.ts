import { StandardWebhooksSigned } from "./standard-webhooks-scheme.js";

/**
 * Clerk: Svix-signed (Standard Webhooks v1) — `svix-id`, `svix-timestamp`, `svix-signature` with
 * `v1,<base64 HMAC-SHA256>` entries over `id.timestamp.body`; the `whsec_…` signing secret is
 * base64-decoded (see standard-webhooks-scheme.ts). Event type: body `type` (`user.created`, …).
 * Identity (provider event id): `svix-id`, kept on every retry — never `data.id`, the id of the
 * user/organization/session the event is about.
 */
export class ClerkProvider extends StandardWebhooksSigned {
  readonly name = "clerk";

  constructor() {
    super(["svix"]);
  }
}
