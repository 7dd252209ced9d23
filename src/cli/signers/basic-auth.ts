import { basicAuthorization, type Signer } from "./signer.js";

/** Basic auth: `Authorization: Basic <base64 user:pass>`. */
export const basicAuth: Signer = {
  provider: "basic-auth",
  secret: "the credentials, user:pass",
  sign(input) {
    return { headers: [["Authorization", basicAuthorization("basic-auth", input.secret)]] };
  },
};
