import { SignError, type Signer } from "./signer.js";

/** Bearer token: `Authorization: Bearer <token>`. */
export const bearerToken: Signer = {
  provider: "bearer-token",
  secret: "the token",
  sign(input) {
    if (!/^\S+$/.test(input.secret)) throw new SignError("bearer-token secret must be a token without spaces");
    return { headers: [["Authorization", `Bearer ${input.secret}`]] };
  },
};
