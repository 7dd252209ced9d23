import { given, hmac, uuid, type Signer } from "./signer.js";

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (and the legacy SHA-1
 * `X-Hub-Signature`), `X-GitHub-Delivery` a UUID. GitHub names the event in `X-GitHub-Event`:
 * set it with --header X-GitHub-Event=push.
 */
export const github: Signer = {
  provider: "github",
  secret: "the webhook secret",
  sign(input) {
    return {
      headers: [
        ["X-GitHub-Delivery", given(input, "x-github-delivery", uuid)],
        ["X-Hub-Signature", `sha1=${hmac("sha1", input.secret, input.body).toString("hex")}`],
        ["X-Hub-Signature-256", `sha256=${hmac("sha256", input.secret, input.body).toString("hex")}`],
      ],
      warnings: input.header("x-github-event") === undefined ? ["github sends the event name in X-GitHub-Event: add --header X-GitHub-Event=<name>"] : [],
    };
  },
};
