import { hmac, type Signer } from "./signer.js";

/** Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>` under the app's client secret. */
export const intercom: Signer = {
  provider: "intercom",
  secret: "the app's client secret",
  sign(input) {
    return { headers: [["X-Hub-Signature", `sha1=${hmac("sha1", input.secret, input.body).toString("hex")}`]] };
  },
};
