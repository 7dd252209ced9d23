import type { ProviderReply } from "../providers/provider.js";

/** One verified (or rejected) receipt, ready to store. Built by ingress, stored by the committer. */
export interface Receipt {
  endpointId: number;
  receivedAt: number;
  method: string;
  headersJson: string;
  queryJson: string;
  body: Buffer;
  eventType: string | null;
  providerEventId: string | null;
  providerDeliveryId: string | null;
  dedupeKey: string | null;
  /**
   * SHA-256 (hex) of the body, for a valid receipt whose provider does not sign its identity or
   * type: a second dedupe identity, so a replayed body is a duplicate whatever its headers say.
   */
  bodyIdentity: string | null;
  signatureValid: boolean;
  signatureError: string | null;
  /** A valid handshake: store the delivery but create no event. */
  handshake: boolean;
  reply: ProviderReply | null;
  /**
   * Set when `body` holds only the start of what was sent (a rejected receipt, cut to
   * `invalidBodyBytes`): the whole body's length and SHA-256 (hex).
   */
  bodyDigest: { length: number; sha256: string } | null;
  /** A rejected receipt over the endpoint's per-minute budget: counted, never stored. */
  dropped?: true;
  /** Status for a rejected receipt (401 unless the provider or the size check said otherwise). */
  rejectStatus: number;
  /** The endpoint's ordering key for this receipt's event (CONTRACT §11); null: unordered. */
  orderingKey: string | null;
  /** The `traceparent` of the receipt's PRODUCER span, stored with a new event; null without telemetry. */
  traceParent: string | null;
}
