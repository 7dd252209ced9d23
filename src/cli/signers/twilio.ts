import { createHash } from "node:crypto";
import { given, hmac, uuid, type Signer } from "./signer.js";

/**
 * Twilio: `X-Twilio-Signature` = base64 HMAC-SHA1 under the auth token of the URL Twilio calls
 * followed, for form posts, by every POST parameter sorted by name, appended as name + value.
 * A JSON body is covered instead by a `bodySHA256` query parameter (hex SHA-256 of the body)
 * that Twilio adds to the URL before signing it.
 */
export const twilio: Signer = {
  provider: "twilio",
  secret: "the account's auth token",
  needsUrl: true,
  sign(input) {
    const url = input.url!;
    const headers: Array<[string, string]> = [["I-Twilio-Idempotency-Token", given(input, "i-twilio-idempotency-token", uuid)]];
    if (/^application\/x-www-form-urlencoded\b/i.test(input.contentType)) {
      const params = new Map<string, string[]>();
      for (const [name, value] of new URLSearchParams(input.body.toString("utf8"))) params.set(name, [...(params.get(name) ?? []), value]);
      const appended = [...params.keys()].sort().map((name) => [...new Set(params.get(name))].sort().map((value) => name + value).join("")).join("");
      headers.push(["X-Twilio-Signature", hmac("sha1", input.secret, url + appended).toString("base64")]);
      return { headers };
    }
    const bodySHA256 = createHash("sha256").update(input.body).digest("hex");
    const signedUrl = `${url}${url.includes("?") ? "&" : "?"}bodySHA256=${bodySHA256}`;
    headers.push(["X-Twilio-Signature", hmac("sha1", input.secret, signedUrl).toString("base64")]);
    return { headers, query: [["bodySHA256", bodySHA256]] };
  },
};
