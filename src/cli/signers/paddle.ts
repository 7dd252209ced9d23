import { hmac, type Signer } from "./signer.js";

/** Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "ts:body">`. */
export const paddle: Signer = {
  provider: "paddle",
  secret: "the notification destination's secret key",
  sign(input) {
    const ts = String(input.timestamp);
    return { headers: [["Paddle-Signature", `ts=${ts};h1=${hmac("sha256", input.secret, `${ts}:`, input.body).toString("hex")}`]] };
  },
};
