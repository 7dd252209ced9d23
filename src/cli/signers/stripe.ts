import { hmac, type Signer } from "./signer.js";

/** Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`; the whsec_ secret is used as is. */
export const stripe: Signer = {
  provider: "stripe",
  secret: "the endpoint's signing secret (whsec_…, used as is)",
  sign(input) {
    const t = String(input.timestamp);
    return { headers: [["Stripe-Signature", `t=${t},v1=${hmac("sha256", input.secret, `${t}.`, input.body).toString("hex")}`]] };
  },
};
