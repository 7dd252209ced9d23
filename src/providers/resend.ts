import { StandardWebhooksSigned } from "./standard-webhooks-scheme.js";

/**
 * Resend: Svix-signed (Standard Webhooks v1) — `svix-id`, `svix-timestamp`, `svix-signature` with
 * `v1,<base64 HMAC-SHA256>` entries over `id.timestamp.body`; the `whsec_…` signing secret is
 * base64-decoded (see standard-webhooks-scheme.ts). Event type: body `type` (`email.delivered`, …).
 * Identity (provider event id): `svix-id`, kept on every retry — never `data.email_id`, which
 * every event about one email (sent, delivered, opened, clicked…) shares.
 */
export class ResendProvider extends StandardWebhooksSigned {
  readonly name = "resend";

  constructor() {
    super(["svix"]);
  }
}
