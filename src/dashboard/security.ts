// The dashboard's defences, in one place:
// - who may look: the app's `authorize(request)`, or "local-only" (a loopback peer that also
//   names a loopback host, so a DNS-rebinding page cannot pass for local);
// - what a page may do in the browser: a Content-Security-Policy without 'unsafe-inline' and
//   without other origins (scripts and styles only from the dashboard's own assets), no framing,
//   no MIME sniffing, no referrer to other origins (same-origin: with no-referrer at all,
//   browsers send `Origin: null` on the dashboard's own form posts);
// - who may act: POST only, from the dashboard's own origin (Origin / Sec-Fetch-Site), with a
//   CSRF token bound to a per-browser cookie by an HMAC only this dashboard can compute.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every response, 401s and assets included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** How the peer of a request is known: the server passes it (a fetch-style Request has no socket). */
export interface PeerInfo {
  remoteAddress?: string | undefined;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback (::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith("127.");
  return plain === "::1" || plain === "0:0:0:0:0:0:0:1";
}

/** `localhost`, `*.localhost`, 127.x.y.z or [::1], with any port. */
export function isLoopbackHost(host: string | null): boolean {
  if (host === null || host === "") return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "[::1]") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}

/** "local-only": a loopback peer, and a Host header naming a loopback host (DNS rebinding). */
export function isLocalRequest(request: Request, peer: PeerInfo | undefined): boolean {
  return isLoopbackAddress(peer?.remoteAddress) && isLoopbackHost(request.headers.get("host"));
}

export const CSRF_COOKIE = "knocker_csrf";
const CSRF_COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The browser's CSRF cookie value, when it has a well-formed one. */
export function csrfCookie(request: Request): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0 || part.slice(0, at).trim() !== CSRF_COOKIE) continue;
    const value = part.slice(at + 1).trim();
    if (CSRF_COOKIE_VALUE.test(value)) return value;
  }
  return null;
}

export function newCsrfCookie(): string {
  return randomBytes(32).toString("base64url");
}

export function setCsrfCookie(value: string, path: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${value}; Path=${path}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** Form tokens: an HMAC of the browser's cookie under this dashboard's key. */
export class CsrfTokens {
  readonly #key: Buffer;

  constructor(secret: string | Uint8Array | undefined) {
    this.#key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  token(cookie: string): string {
    return createHmac("sha256", this.#key).update(`knocker-dashboard-csrf:${cookie}`).digest("base64url");
  }

  verify(cookie: string | null, token: string | null): boolean {
    if (cookie === null || token === null) return false;
    const expected = Buffer.from(this.token(cookie));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * Why a POST is refused before its token is looked at, or null. A browser sends Sec-Fetch-Site
 * and Origin with every POST: anything but the dashboard's own origin is refused. A client that
 * sends neither is not a browser on another site (that is what CSRF is), so its token decides.
 */
export function crossOriginProblem(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return `Sec-Fetch-Site is ${JSON.stringify(site)}, not same-origin`;
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  const host = request.headers.get("host") ?? new URL(request.url).host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return "the Origin header is not an origin";
  }
  if (origin === "null" || originHost.toLowerCase() !== host.toLowerCase()) return "the request comes from another origin";
  return null;
}
