import { createHmac, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from "node:crypto";

// The CLI's signers produce what each provider sends, from the provider's documentation (see
// shared/spec/PROVIDERS.md). They share no code with src/providers/: a signer and a verifier that
// agree are two independent readings of the same spec.

export interface SignInput {
  body: Buffer;
  /** The shared secret, or a PEM private key for the providers that sign with a key pair. */
  secret: string;
  /** The public URL the provider calls; only the providers that sign the URL read it. */
  url: string | undefined;
  /** Unix seconds. */
  timestamp: number;
  /** The Content-Type the request is sent with. */
  contentType: string;
  /**
   * A header the user set with --header (name in any case). Signers take ids and timestamps from
   * here when present, so a user-chosen value is the one signed.
   */
  header(name: string): string | undefined;
  /** --token-header, for token-header. */
  tokenHeader: string;
}

export interface Signed {
  /** In the provider's spelling, in the order it sends them. */
  headers: Array<[string, string]>;
  /** Query parameters the provider adds to the URL it calls (Twilio's bodySHA256). */
  query?: Array<[string, string]>;
  /** For key-pair providers: the public key to configure as the endpoint's secret. */
  verificationKey?: string;
  /** Things the user should know (the request will probably be rejected), printed on stderr. */
  warnings?: string[];
}

export interface Signer {
  provider: string;
  /** What --secret is, for `knocker sign --help`. */
  secret: string;
  /** The provider signs the URL it calls: --url (or --send) is required. */
  needsUrl?: boolean;
  sign(input: SignInput): Signed;
}

/** A secret or key the provider cannot sign with: a usage error whose message never repeats it. */
export class SignError extends Error {
  override readonly name = "SignError";
}

export function hmac(algorithm: "sha1" | "sha256", key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** The value the user set for `name`, else a fresh one. */
export function given(input: SignInput, name: string, make: () => string): string {
  return input.header(name) ?? make();
}

export const uuid = (): string => randomUUID();

/** `2025-01-31T12:00:00Z` */
export function isoSeconds(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The body's JSON, or undefined. */
export function bodyJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

export function jsonField(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A PEM private key of the given kind, or a SignError saying what was expected. */
export function privateKey(provider: string, secret: string, kind: "ed25519" | "p256"): KeyObject {
  const expected = kind === "ed25519" ? "an Ed25519 private key in PEM" : "an ECDSA P-256 private key in PEM";
  if (!secret.includes("-----BEGIN")) throw new SignError(`${provider} signs with ${expected}: pass it with --secret-file key.pem`);
  let key: KeyObject;
  try {
    key = createPrivateKey(secret);
  } catch {
    throw new SignError(`${provider}: the key given is not a readable PEM private key (expected ${expected})`);
  }
  const ok = kind === "ed25519" ? key.asymmetricKeyType === "ed25519" : key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
  if (!ok) throw new SignError(`${provider}: the key given is an ${key.asymmetricKeyType} key, expected ${expected}`);
  return key;
}

/** An Ed25519 key's raw 32-byte public key. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url");
}

/** `user:pass` credentials for HTTP Basic auth, checked. */
export function basicAuthorization(provider: string, secret: string): string {
  if (!secret.includes(":")) throw new SignError(`${provider} secret must be the credentials user:pass`);
  return `Basic ${Buffer.from(secret, "utf8").toString("base64")}`;
}
