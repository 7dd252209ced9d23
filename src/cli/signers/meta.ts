import { hmac, type Signer } from "./signer.js";

/** Meta (Facebook, Instagram, WhatsApp): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` under the app secret. */
export const meta: Signer = {
  provider: "meta",
  secret: "the app secret",
  sign(input) {
    return {
      headers: [
        ["X-Hub-Signature", `sha1=${hmac("sha1", input.secret, input.body).toString("hex")}`],
        ["X-Hub-Signature-256", `sha256=${hmac("sha256", input.secret, input.body).toString("hex")}`],
      ],
    };
  },
};
