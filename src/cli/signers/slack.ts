import { given, hmac, type Signer } from "./signer.js";

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + body>`. */
export const slack: Signer = {
  provider: "slack",
  secret: "the app's signing secret",
  sign(input) {
    const ts = given(input, "x-slack-request-timestamp", () => String(input.timestamp));
    return {
      headers: [
        ["X-Slack-Request-Timestamp", ts],
        ["X-Slack-Signature", `v0=${hmac("sha256", input.secret, `v0:${ts}:`, input.body).toString("hex")}`],
      ],
    };
  },
};
