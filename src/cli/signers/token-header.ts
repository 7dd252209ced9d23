import { SignError, type Signer } from "./signer.js";

/** Token header: the secret itself, in the header named by --token-header (default x-knocker-token). */
export const tokenHeader: Signer = {
  provider: "token-header",
  secret: "the token (sent in --token-header NAME, default x-knocker-token)",
  sign(input) {
    if (/[\r\n]/.test(input.secret)) throw new SignError("token-header secret must be one line");
    return { headers: [[input.tokenHeader, input.secret]] };
  },
};
