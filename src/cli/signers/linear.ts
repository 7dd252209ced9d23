import { bodyJson, given, hmac, jsonField, uuid, type Signer } from "./signer.js";

/** Linear's tolerance for the body's webhookTimestamp. */
const TOLERANCE_S = 60;

/**
 * Linear: `Linear-Signature: <hex HMAC-SHA256 of the body>`, `Linear-Delivery` a UUID,
 * `Linear-Event` the body's `type`. The timestamp Linear checks is inside the signed body
 * (`webhookTimestamp`, unix ms), so the signer cannot set it: it warns when it is stale.
 */
export const linear: Signer = {
  provider: "linear",
  secret: "the webhook's signing secret",
  sign(input) {
    const body = bodyJson(input.body);
    const type = jsonField(body, "type");
    const stamp = jsonField(body, "webhookTimestamp");
    const headers: Array<[string, string]> = [["Linear-Delivery", given(input, "linear-delivery", uuid)]];
    if (typeof type === "string") headers.push(["Linear-Event", type]);
    headers.push(["Linear-Signature", hmac("sha256", input.secret, input.body).toString("hex")]);
    const warnings =
      typeof stamp !== "number"
        ? ["linear checks the body's webhookTimestamp (unix ms), and this body has none: the receiver will reject it"]
        : Math.abs(stamp / 1000 - input.timestamp) > TOLERANCE_S
          ? [`linear: the body's webhookTimestamp is more than ${TOLERANCE_S}s from now: the receiver will reject it`]
          : [];
    return { headers, warnings };
  },
};
