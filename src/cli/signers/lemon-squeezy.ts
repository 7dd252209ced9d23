import { bodyJson, hmac, jsonField, type Signer } from "./signer.js";

/** Lemon Squeezy: `X-Signature: <hex HMAC-SHA256 of the body>`, `X-Event-Name` = the body's meta.event_name. */
export const lemonSqueezy: Signer = {
  provider: "lemon-squeezy",
  secret: "the webhook's signing secret",
  sign(input) {
    const name = jsonField(bodyJson(input.body), "meta", "event_name");
    const headers: Array<[string, string]> = typeof name === "string" ? [["X-Event-Name", name]] : [];
    headers.push(["X-Signature", hmac("sha256", input.secret, input.body).toString("hex")]);
    return { headers };
  },
};
