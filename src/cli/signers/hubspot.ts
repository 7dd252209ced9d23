import { given, hmac, type Signer } from "./signer.js";

/**
 * HubSpot v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256 of
 * `POST + url + body + X-HubSpot-Request-Timestamp` (unix milliseconds) under the app's client secret.
 */
export const hubspot: Signer = {
  provider: "hubspot",
  secret: "the app's client secret",
  needsUrl: true,
  sign(input) {
    const ts = given(input, "x-hubspot-request-timestamp", () => String(input.timestamp * 1000));
    return {
      headers: [
        ["X-HubSpot-Request-Timestamp", ts],
        ["X-HubSpot-Signature-v3", hmac("sha256", input.secret, `POST${input.url!}`, input.body, ts).toString("base64")],
      ],
    };
  },
};
