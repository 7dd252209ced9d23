// What every page shares: the request context, links under the base path, the document shell,
// and the answers (an HTML page, a redirect, a download), each with the security headers.
import type { EventStatus } from "../interfaces.js";
import { ASSETS } from "./assets.js";
import { iso, utc } from "./format.js";
import { documentText, html, type Html, type Renderable } from "./html.js";
import type { DashboardOperator, DashboardQueries } from "./queries.js";
import type { SecretNames } from "./format.js";
import { SECURITY_HEADERS } from "./security.js";

export interface DashboardDeps {
  operator: DashboardOperator;
  queries: DashboardQueries;
  queueName: string;
  /** Unix seconds (the inbox's clock). */
  now: () => number;
  /** The secret-carrying header and query names of an endpoint registered in this process. */
  secretNames: (endpoint: string) => SecretNames;
}

export interface PageContext {
  readonly request: Request;
  readonly url: URL;
  /** The path below the base path, starting with "/". */
  readonly route: string;
  /** The base path, ending with "/". */
  readonly base: string;
  readonly readOnly: boolean;
  /** The form token of this browser (see security.ts). */
  readonly csrf: string;
  readonly now: number;
  readonly deps: DashboardDeps;
  /** Headers to add to the answer (the CSRF cookie). */
  readonly extraHeaders: Headers;
}

export type Params = Record<string, string | number | null | undefined>;

/** A link to a dashboard route: the base path, the route, and the non-empty params, encoded. */
export function link(ctx: PageContext, route: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  const query = search.toString();
  return `${ctx.base}${route.replace(/^\//, "")}${query === "" ? "" : `?${query}`}`;
}

export function statusBadge(status: EventStatus | string): Html {
  return html`<span class="status status-${status}">${status}</span>`;
}

export function timeCell(seconds: number | null): Html {
  if (seconds === null) return html`-`;
  return html`<time datetime="${iso(seconds)}">${utc(seconds)}</time>`;
}

/** A hidden CSRF field for a form that POSTs. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;
}

type Section = "overview" | "events" | "deliveries" | "audits" | null;

export function pageResponse(ctx: PageContext, title: string, section: Section, body: Renderable, status = 200): Response {
  const css = ASSETS["dashboard.css"]!;
  const js = ASSETS["dashboard.js"]!;
  const nav = ([["overview", "Overview", "/"], ["events", "Events", "/events"], ["deliveries", "Deliveries", "/deliveries"], ["audits", "Retention", "/audits"]] as const)
    .map(([key, label, route]) => html`<a href="${link(ctx, route)}" class="${key === section ? "here" : ""}">${label}</a>`);
  const doc = html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Knocker</title>
<link rel="stylesheet" href="${link(ctx, "/assets/dashboard.css", { v: css.version })}">
<script src="${link(ctx, "/assets/dashboard.js", { v: js.version })}" defer></script>
</head>
<body>
<header class="top">
  <span class="brand">Knocker</span>
  <nav>${nav}</nav>
  ${ctx.readOnly ? html`<span class="badge-ro" title="actions are disabled">read-only</span>` : null}
  <form method="get" action="${link(ctx, "/events")}" role="search">
    <input type="search" name="q" placeholder="event id, delivery id, provider id, dedupe key" aria-label="Look up">
    <button type="submit" class="secondary">Find</button>
  </form>
</header>
<main>
${body}
</main>
</body>
</html>`;
  return respond(ctx, status, documentText(doc), "text/html; charset=utf-8");
}

export function respond(ctx: PageContext | null, status: number, body: string | Uint8Array<ArrayBuffer> | null, contentType: string | null, headers: Record<string, string> = {}): Response {
  const out = new Headers(SECURITY_HEADERS);
  out.set("cache-control", "no-store");
  if (contentType !== null) out.set("content-type", contentType);
  for (const [name, value] of Object.entries(headers)) out.set(name, value);
  if (ctx) for (const [name, value] of ctx.extraHeaders) out.append(name, value);
  return new Response(body, { status, headers: out });
}

export function redirect(ctx: PageContext, location: string): Response {
  return respond(ctx, 303, null, null, { location });
}

/** A message page (not found, refused, error): only our own words and escaped values. */
export function messagePage(ctx: PageContext, status: number, title: string, message: Renderable, back?: { href: string; label: string }): Response {
  return pageResponse(ctx, title, null, html`<h1>${title}</h1>
<div class="notice ${status >= 400 ? "bad" : ""}">${message}</div>
${back ? html`<p><a href="${back.href}">${back.label}</a></p>` : null}`, status);
}
