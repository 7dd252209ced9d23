import { basicAuthorization, type Signer } from "./signer.js";

/** Postmark signs nothing: it calls the webhook URL with the Basic credentials configured in it. */
export const postmark: Signer = {
  provider: "postmark",
  secret: "the Basic credentials of the webhook URL, user:pass",
  sign(input) {
    return { headers: [["Authorization", basicAuthorization("postmark", input.secret)]] };
  },
};
