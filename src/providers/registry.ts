import { describeThrown, KnockerError } from "../errors.js";
import { CuratedProvider } from "./curated.js";
import { Provider } from "./provider.js";
import { StripeProvider } from "./stripe.js";
import { GithubProvider } from "./github.js";
import { ShopifyProvider } from "./shopify.js";
import { SlackProvider } from "./slack.js";
import { PostmarkProvider } from "./postmark.js";
import { ResendProvider } from "./resend.js";
import { PaddleProvider } from "./paddle.js";
import { LemonSqueezyProvider } from "./lemon-squeezy.js";
import { StandardWebhooksProvider } from "./standard-webhooks.js";
import { ClerkProvider } from "./clerk.js";
import { TwilioProvider } from "./twilio.js";
import { SendgridProvider } from "./sendgrid.js";
import { LinearProvider } from "./linear.js";
import { MetaProvider } from "./meta.js";
import { DiscordProvider } from "./discord.js";
import { ZendeskProvider } from "./zendesk.js";
import { IntercomProvider } from "./intercom.js";
import { HubspotProvider } from "./hubspot.js";
import { TokenHeaderProvider } from "./token-header.js";
import { BearerTokenProvider } from "./bearer-token.js";
import { BasicAuthProvider } from "./basic-auth.js";

/** The curated built-ins. Their names are reserved: custom providers must pick another. */
const CURATED: Record<string, () => Provider> = {
  "stripe": () => new StripeProvider(),
  "github": () => new GithubProvider(),
  "shopify": () => new ShopifyProvider(),
  "slack": () => new SlackProvider(),
  "postmark": () => new PostmarkProvider(),
  "resend": () => new ResendProvider(),
  "paddle": () => new PaddleProvider(),
  "lemon-squeezy": () => new LemonSqueezyProvider(),
  "standard-webhooks": () => new StandardWebhooksProvider(),
  "clerk": () => new ClerkProvider(),
  "twilio": () => new TwilioProvider(),
  "sendgrid": () => new SendgridProvider(),
  "linear": () => new LinearProvider(),
  "meta": () => new MetaProvider(),
  "discord": () => new DiscordProvider(),
  "zendesk": () => new ZendeskProvider(),
  "intercom": () => new IntercomProvider(),
  "hubspot": () => new HubspotProvider(),
  "token-header": () => new TokenHeaderProvider(),
  "bearer-token": () => new BearerTokenProvider(),
  "basic-auth": () => new BasicAuthProvider(),
};

export const CURATED_PROVIDER_NAMES: readonly string[] = Object.freeze(Object.keys(CURATED));

export function curatedProviderVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, create] of Object.entries(CURATED)) versions[name] = create().version;
  return versions;
}

export interface PreparedProvider {
  provider: Provider;
  secrets: readonly string[];
  options: Readonly<Record<string, unknown>>;
  /** Lower-case header names and query parameters whose values are never stored. */
  secretHeaders: readonly string[];
  secretQueryParams: readonly string[];
}

/**
 * Resolve and validate an endpoint's provider configuration once, at registration, so a bad
 * configuration never surfaces first at receive time. Returns null for a trusted endpoint.
 */
export function prepareProvider(
  endpoint: string,
  spec: string | Provider | null | undefined,
  secrets: readonly string[] | undefined,
  options: Record<string, unknown> | undefined,
): PreparedProvider | null {
  if (spec === null || spec === undefined) {
    if (options !== undefined && Object.keys(options).length > 0) {
      throw new KnockerError("ERR_INVALID_PROVIDER_OPTION", `endpoint "${endpoint}" has providerOptions but no provider`);
    }
    return null;
  }
  const provider = resolveProvider(endpoint, spec);
  const checkedSecrets = checkSecrets(endpoint, provider, secrets);
  // Curated messages never quote values; a custom provider's text is scrubbed of the secrets.
  const redact = provider instanceof CuratedProvider ? [] : checkedSecrets;
  const checkedOptions = checkOptions(endpoint, provider, options ?? {}, redact);
  const ask = (method: "secretHeaders" | "secretQueryParams") =>
    nameList(endpoint, provider, method, redact, () => provider[method](checkedOptions));
  return {
    provider,
    secrets: checkedSecrets,
    options: checkedOptions,
    secretHeaders: ask("secretHeaders").map((name) => name.toLowerCase()),
    secretQueryParams: ask("secretQueryParams"),
  };
}

/**
 * A provider's list of credential-carrying names, asked once at registration. (Errors here carry
 * no `cause`: what a provider threw may quote a secret, and a logged cause would print it.)
 */
function nameList(endpoint: string, provider: Provider, method: string, secrets: readonly string[], ask: () => readonly string[]): string[] {
  let names: unknown;
  try {
    names = ask();
  } catch (error) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": provider "${provider.name}" ${method}() failed: ${describeThrown(error, secrets)}`);
  }
  if (!Array.isArray(names) || names.some((name) => typeof name !== "string")) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": provider "${provider.name}" ${method}() must return an array of strings`);
  }
  return Object.freeze([...names]) as string[];
}

function resolveProvider(endpoint: string, spec: string | Provider): Provider {
  if (typeof spec === "string") {
    const create = Object.hasOwn(CURATED, spec) ? CURATED[spec] : undefined;
    if (!create) {
      throw new KnockerError(
        "ERR_UNKNOWN_PROVIDER",
        `endpoint "${endpoint}": unknown provider "${spec}"; string names are reserved for the curated providers (${CURATED_PROVIDER_NAMES.join(", ")}); pass a Provider instance for a custom one`,
      );
    }
    return create();
  }
  if (!(spec instanceof Provider)) {
    throw new TypeError(`endpoint "${endpoint}": provider must be a curated provider name or a Provider instance`);
  }
  if (typeof spec.name !== "string" || spec.name.length === 0) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": custom provider must have a non-empty string name`);
  }
  if (Object.hasOwn(CURATED, spec.name)) {
    throw new KnockerError(
      "ERR_PROVIDER_NAME_RESERVED",
      `endpoint "${endpoint}": provider name "${spec.name}" is reserved for the curated built-in; give the custom provider another name`,
    );
  }
  if (typeof spec.version !== "string" || !/^\d+\.\d+\.\d+(?:[-+].*)?$/.test(spec.version)) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": provider "${spec.name}" version must be SemVer (e.g. "1.0.0")`);
  }
  if (typeof spec.verify !== "function") {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": provider "${spec.name}" has no verify() method`);
  }
  return spec;
}

function checkSecrets(endpoint: string, provider: Provider, secrets: readonly string[] | undefined): readonly string[] {
  if (secrets !== undefined && (!Array.isArray(secrets) || secrets.some((s) => typeof s !== "string"))) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpoint}": secrets for provider "${provider.name}" must be an array of strings`);
  }
  const list = Object.freeze([...(secrets ?? [])]);
  if (provider.requiresSecrets && (list.length === 0 || list.some((s) => s.length === 0))) {
    throw new KnockerError(
      "ERR_MISSING_SECRETS",
      `endpoint "${endpoint}": provider "${provider.name}" requires at least one non-empty secret`,
    );
  }
  try {
    provider.validateSecrets(list);
  } catch (error) {
    throw new KnockerError("ERR_INVALID_SECRET", `endpoint "${endpoint}": provider "${provider.name}" rejected a secret: ${describeThrown(error, list)}`);
  }
  return list;
}

function checkOptions(
  endpoint: string,
  provider: Provider,
  options: Record<string, unknown>,
  secrets: readonly string[],
): Readonly<Record<string, unknown>> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new KnockerError("ERR_INVALID_PROVIDER_OPTION", `endpoint "${endpoint}": providerOptions must be an object`);
  }
  const allowed = new Set(provider.optionKeys);
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      const known = allowed.size > 0 ? `known keys: ${[...allowed].join(", ")}` : "it takes no options";
      throw new KnockerError(
        "ERR_INVALID_PROVIDER_OPTION",
        `endpoint "${endpoint}": unknown option "${key}" for provider "${provider.name}" (${known})`,
      );
    }
  }
  try {
    return Object.freeze(provider.validateOptions(options) ?? { ...options });
  } catch (error) {
    if (error instanceof KnockerError) {
      throw new KnockerError(error.code, `endpoint "${endpoint}": ${describeThrown(error, secrets, 500)}`);
    }
    throw new KnockerError("ERR_INVALID_PROVIDER_OPTION", `endpoint "${endpoint}": provider "${provider.name}" rejected its options: ${describeThrown(error, secrets)}`);
  }
}
