import { basicAuth } from "./basic-auth.js";
import { bearerToken } from "./bearer-token.js";
import { clerk } from "./clerk.js";
import { discord } from "./discord.js";
import { github } from "./github.js";
import { hubspot } from "./hubspot.js";
import { intercom } from "./intercom.js";
import { lemonSqueezy } from "./lemon-squeezy.js";
import { linear } from "./linear.js";
import { meta } from "./meta.js";
import { paddle } from "./paddle.js";
import { postmark } from "./postmark.js";
import { resend } from "./resend.js";
import { sendgrid } from "./sendgrid.js";
import { shopify } from "./shopify.js";
import type { Signer } from "./signer.js";
import { slack } from "./slack.js";
import { standardWebhooks } from "./standard-webhooks.js";
import { stripe } from "./stripe.js";
import { tokenHeader } from "./token-header.js";
import { twilio } from "./twilio.js";
import { zendesk } from "./zendesk.js";

/** One signer for each of the 21 curated providers, by provider name. */
export const SIGNERS: ReadonlyMap<string, Signer> = new Map(
  [
    stripe, github, shopify, slack, postmark, resend, paddle, lemonSqueezy, standardWebhooks, clerk, twilio, sendgrid, linear, meta,
    discord, zendesk, intercom, hubspot, tokenHeader, bearerToken, basicAuth,
  ].map((signer) => [signer.provider, signer]),
);

export { SignError, type SignInput, type Signed, type Signer } from "./signer.js";
