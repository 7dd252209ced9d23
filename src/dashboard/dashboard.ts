// `webhooks.dashboard({ authorize, basePath, readOnly })`: a fetch-style handler serving the
// operator dashboard under `basePath`. Every request is authorized first (nothing, not even the
// stylesheet, is served otherwise); GETs only read; actions are POSTs that pass the origin and
// CSRF checks of security.ts. Pages are in pages/, the reads they need beyond the operator API
// behind DashboardQueries.
import { KnockerError } from "../errors.js";
import type { DashboardHandler, DashboardOptions, DashboardPeer } from "../interfaces.js";
import { checkKnownKeys } from "../operator/validate.js";
import { ASSETS } from "./assets.js";
import { html } from "./html.js";
import { messagePage, redirect, respond, link, type DashboardDeps, type PageContext } from "./layout.js";
import { createDashboardNodeHandler } from "./node.js";
import { bulkConfirm, bulkPreview } from "./pages/bulk.js";
import { bodyDownload, deliveryPage, eventPage } from "./pages/event.js";
import { eventsPage } from "./pages/events.js";
import { auditsPage, deliveriesPage } from "./pages/lists.js";
import { overviewPage, type CountsCache } from "./pages/overview.js";
import { crossOriginProblem, CsrfTokens, csrfCookie, isLocalRequest, newCsrfCookie, SECURITY_HEADERS, setCsrfCookie } from "./security.js";

/** Largest action form accepted (a bulk confirmation is a few hundred bytes). */
const MAX_FORM_BYTES = 64 * 1024;
const EVENT_ACTIONS = ["replay", "requeue", "ignore"] as const;

interface Settings {
  authorize: (request: Request, peer: DashboardPeer | undefined) => boolean | Response | Promise<boolean | Response>;
  base: string;
  readOnly: boolean;
  tokens: CsrfTokens;
}

function checkOptions(options: DashboardOptions): Settings {
  if (options === null || typeof options !== "object") {
    throw new KnockerError("ERR_INVALID_OPTION", 'dashboard() takes an options object with "authorize": a function (request) => boolean, or "local-only"');
  }
  checkKnownKeys(options, "dashboard", ["authorize", "basePath", "readOnly", "secret"]);
  const { authorize, basePath = "/", readOnly = false, secret } = options;
  let check: Settings["authorize"];
  if (authorize === "local-only") check = isLocalRequest;
  else if (typeof authorize === "function") check = (request) => authorize(request);
  else {
    throw new KnockerError(
      "ERR_INVALID_OPTION",
      'dashboard() option "authorize" is required: a function (request) => boolean | Promise<boolean> that decides who may see the inbox, or "local-only" (loopback peers only)',
    );
  }
  // Segments of URL path characters, each but the last followed by "/" (one way to match: no backtracking).
  if (typeof basePath !== "string" || !/^\/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+\/)*[A-Za-z0-9._~!$&'()*+,;=:@%-]*$/.test(basePath)) {
    throw new KnockerError("ERR_INVALID_OPTION", `dashboard() option "basePath" must be a path like "/" or "/ops/knocker", got ${JSON.stringify(basePath)}`);
  }
  if (typeof readOnly !== "boolean") throw new KnockerError("ERR_INVALID_OPTION", 'dashboard() option "readOnly" must be a boolean');
  if (secret !== undefined && !(typeof secret === "string" && secret.length >= 16) && !(secret instanceof Uint8Array && secret.length >= 16)) {
    throw new KnockerError("ERR_INVALID_OPTION", 'dashboard() option "secret" must be a string or bytes of at least 16 characters');
  }
  return { authorize: check, base: basePath.endsWith("/") ? basePath : `${basePath}/`, readOnly, tokens: new CsrfTokens(secret) };
}

/** The app's own answer to an unauthorized request (its login redirect, a Basic challenge), with the security headers. */
function withSecurityHeaders(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** A bare answer with the security headers: nothing of the inbox in it. */
function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return respond(null, status, `${text}\n`, "text/plain; charset=utf-8", headers);
}

export function createDashboard(deps: DashboardDeps, options: DashboardOptions): DashboardHandler {
  const settings = checkOptions(options);
  const cache: { settled: CountsCache | null } = { settled: null };

  const handle = async (request: Request, peer?: DashboardPeer): Promise<Response> => {
    if (!(request instanceof Request)) throw new TypeError("the dashboard handler takes a Request");
    const url = new URL(request.url);
    const base = settings.base;
    const inside = url.pathname.startsWith(base) || `${url.pathname}/` === base;
    if (!inside) return plain(404, "Not Found");

    let decision: boolean | Response = false;
    try {
      decision = await settings.authorize(request, peer);
    } catch {
      decision = false; // a failing check refuses, never lets through
    }
    if (decision instanceof Response) return withSecurityHeaders(decision);
    if (decision !== true) return plain(401, "Unauthorized");
    if (url.pathname !== base && `${url.pathname}/` === base) return plain(308, "Moved", { location: `${base}${url.search}` });
    if (deps.operator.closed) return plain(503, "The inbox is closed", { "retry-after": "5" });

    let cookie = csrfCookie(request);
    const extraHeaders = new Headers();
    const hadCookie = cookie !== null;
    if (cookie === null) {
      cookie = newCsrfCookie();
      extraHeaders.append("set-cookie", setCsrfCookie(cookie, base, url.protocol === "https:"));
    }
    const ctx: PageContext = {
      request,
      url,
      route: `/${url.pathname.slice(base.length)}`,
      base,
      readOnly: settings.readOnly,
      csrf: settings.tokens.token(cookie),
      now: deps.now(),
      deps,
      extraHeaders,
    };

    try {
      if (request.method === "GET" || request.method === "HEAD") {
        const response = await get(ctx);
        return request.method === "HEAD" ? new Response(null, { status: response.status, headers: response.headers }) : response;
      }
      if (request.method === "POST") return await post(ctx, hadCookie ? cookie : null);
      return respond(ctx, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { allow: "GET, HEAD, POST" });
    } catch (error) {
      if (error instanceof KnockerError && error.code === "ERR_CLOSED") return plain(503, "The inbox is closed", { "retry-after": "5" });
      if (error instanceof KnockerError && (error.code === "ERR_STORAGE_BUSY" || error.code === "ERR_STORAGE")) {
        return messagePage(ctx, 503, "Storage unavailable", html`The database did not answer in time (${error.code}). Try again in a moment.`);
      }
      return messagePage(ctx, 500, "Something went wrong", html`The dashboard could not answer this request${error instanceof KnockerError ? html` (${error.code})` : null}.`);
    }
  };

  async function get(ctx: PageContext): Promise<Response> {
    const route = ctx.route;
    const asset = /^\/assets\/([a-z]+\.(?:css|js))$/.exec(route);
    if (asset) {
      const file = ASSETS[asset[1]!];
      if (!file) return messagePage(ctx, 404, "Not found", "No such page.");
      const immutable = ctx.url.searchParams.get("v") === file.version;
      return new Response(file.body, {
        status: 200,
        headers: { ...SECURITY_HEADERS, "content-type": file.contentType, "cache-control": immutable ? "private, max-age=31536000, immutable" : "no-cache" },
      });
    }
    if (route === "/") return overviewPage(ctx, cache);
    if (route === "/events") return eventsPage(ctx);
    if (route === "/deliveries") return deliveriesPage(ctx);
    if (route === "/audits") return auditsPage(ctx);
    if (route === "/bulk") return bulkPreview(ctx);
    const item = /^\/(events|deliveries)\/(\d{1,15})(\/body)?$/.exec(route);
    if (item) {
      const id = Number(item[2]);
      if (!Number.isSafeInteger(id) || id <= 0) return messagePage(ctx, 404, "Not found", "No such page.");
      const kind = item[1] === "events" ? "event" : "delivery";
      if (item[3]) return bodyDownload(ctx, kind, id);
      return kind === "event" ? eventPage(ctx, id) : deliveryPage(ctx, id);
    }
    return messagePage(ctx, 404, "Not found", "No such page.", { href: link(ctx, "/"), label: "Overview" });
  }

  async function post(ctx: PageContext, cookie: string | null): Promise<Response> {
    if (ctx.readOnly) return messagePage(ctx, 403, "Read-only", "This dashboard is read-only: it changes nothing.");
    const crossOrigin = crossOriginProblem(ctx.request);
    if (crossOrigin !== null) return messagePage(ctx, 403, "Refused", html`Actions are only accepted from this dashboard's own pages (${crossOrigin}).`);
    const type = (ctx.request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") return messagePage(ctx, 415, "Refused", "Actions are form posts (application/x-www-form-urlencoded).");
    const text = await readForm(ctx.request);
    if (text === null) return messagePage(ctx, 413, "Refused", "The form is too large.");
    const form = new URLSearchParams(text);
    if (!settings.tokens.verify(cookie, form.get("csrf"))) {
      return messagePage(ctx, 403, "Refused", "This form has expired or did not come from this dashboard: reload the page and try again.");
    }
    const route = ctx.route;
    const eventAction = /^\/events\/(\d{1,15})\/(replay|requeue|ignore)$/.exec(route);
    if (eventAction) {
      const id = Number(eventAction[1]);
      const action = eventAction[2] as (typeof EVENT_ACTIONS)[number];
      return act(ctx, id, () => ctx.deps.operator[action](id), action);
    }
    const deliveryReplay = /^\/deliveries\/(\d{1,15})\/replay$/.exec(route);
    if (deliveryReplay) {
      const id = Number(deliveryReplay[1]);
      return act(ctx, null, () => ctx.deps.operator.replayDelivery(id), "replay-delivery");
    }
    if (route === "/bulk") return bulkConfirm(ctx, form);
    return messagePage(ctx, 404, "Not found", "No such action.");
  }

  async function act(ctx: PageContext, eventId: number | null, run: () => Promise<{ id: number }>, done: string): Promise<Response> {
    try {
      const event = await run();
      return redirect(ctx, link(ctx, `/events/${event.id}`, { done }));
    } catch (error) {
      if (error instanceof KnockerError && ["ERR_INVALID_STATE", "ERR_UNKNOWN_EVENT", "ERR_UNKNOWN_DELIVERY", "ERR_INVALID_ARGUMENT"].includes(error.code)) {
        const back = eventId === null ? undefined : { href: link(ctx, `/events/${eventId}`), label: `Back to event ${eventId}` };
        return messagePage(ctx, error.code === "ERR_INVALID_STATE" ? 409 : 404, "Refused", html`${error.message}`, back);
      }
      throw error;
    }
  }

  const handler = handle as DashboardHandler;
  Object.defineProperty(handler, "node", { value: createDashboardNodeHandler(handle, settings.base), enumerable: true });
  return handler;
}

/** The body of a form post, or null past MAX_FORM_BYTES (read no further than that). */
async function readForm(request: Request): Promise<string | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_FORM_BYTES) return null;
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
