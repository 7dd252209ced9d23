// An XSS corpus stored through real receive() and ingest() calls — in bodies (JSON and not),
// header names and values, query strings, event types, provider event / delivery ids, dedupe
// keys, provider errors (a rejecting and a throwing provider), handler errors and endpoint
// names — then every page of the dashboard visited in a real headless Chromium, the lookup and
// the filters fed the payloads too. A page fails on any dialog, on the global an injected script
// sets, on any CSP violation (markup that got through and was only stopped by the policy), on an
// element with an event-handler attribute or a script that is not the dashboard's, and on a
// link that is not the dashboard's own; every response the browser received carries the CSP.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, HTTPResponse } from "puppeteer-core";
import { open, Provider, ProviderResult, type Knocker } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { instrument, launchBrowser, serve, type Served } from "./support/dashboard.js";

const PAYLOADS = [
  `<script>window.__xss="script";alert("script")</script>`,
  `"><img src=x onerror="window.__xss='img';alert('img')">`,
  `'><svg onload=window.__xss='svg';alert('svg')>`,
  `javascript:window.__xss='js-url';alert('js-url')`,
  `<svg><script>window.__xss="svg-script"</script></svg>`,
  `</pre></code></td></table><script>window.__xss="breakout"</script>`,
  `</textarea></title><script>window.__xss="title"</script>`,
  `<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>`,
  `<a href="javascript:alert('a')" id="xss-link">click</a>`,
  `" onmouseover="window.__xss='attr'" autofocus onfocus="window.__xss='focus'" x="`,
  `' onfocus='window.__xss=1' autofocus '`,
  `<details open ontoggle="window.__xss='details'">`,
  `<meta http-equiv="refresh" content="0;url=javascript:alert('meta')">`,
  `<base href="https://evil.example/">`,
  `<style>body{background:url(https://evil.example/x)}</style>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=alert('math')>`,
  `{{constructor.constructor('alert(1)')()}}`,
  "\u202e<b>reversed</b>\u202c \u0000 \u001b[2J",
];

let webhooks: Knocker;
let browser: Browser;
let served: Served;
const eventIds: number[] = [];
const deliveryIds: number[] = [];

/** A provider that rejects with a payload as its error (stored as signature_error). */
class HostileRejecter extends Provider {
  readonly name = "hostile-rejecter";
  readonly version = "1.0.0";
  override readonly requiresSecrets = false;
  verify(request: { header(name: string): string | undefined }): ProviderResult {
    return ProviderResult.reject(`rejected: ${request.header("x-payload") ?? ""}`);
  }
}

/** A provider that throws a payload (stored as "provider error: …"). */
class HostileThrower extends Provider {
  readonly name = "hostile-thrower";
  readonly version = "1.0.0";
  override readonly requiresSecrets = false;
  verify(request: { header(name: string): string | undefined }): ProviderResult {
    throw new Error(request.header("x-payload") ?? "boom");
  }
}

/** A provider that accepts and takes its metadata from the (hostile) body. */
class HostileAccepter extends Provider {
  readonly name = "hostile-accepter";
  readonly version = "1.0.0";
  override readonly requiresSecrets = false;
  verify(request: { json<T>(): T }): ProviderResult {
    const body = request.json<{ id: string; type: string; delivery: string }>();
    return ProviderResult.accept({ providerEventId: body.id, eventType: body.type, providerDeliveryId: body.delivery });
  }
}

before(async () => {
  webhooks = open(tempDbPath(), { maxAttempts: 2, retryBackoff: false });
  const hostileNames = PAYLOADS.slice(0, 6);
  hostileNames.forEach((name, i) => webhooks.endpoint(name, { path: `/hostile-${i}` }));
  webhooks.endpoint("rejecter", { path: "/rejecter", provider: new HostileRejecter() });
  webhooks.endpoint("thrower", { path: "/thrower", provider: new HostileThrower() });
  webhooks.endpoint("accepter", { path: "/accepter", provider: new HostileAccepter() });
  // Every handler fails with the payload of its event's type: errors on events and attempts.
  for (const name of [...hostileNames, "accepter"]) {
    webhooks.handle({ endpoint: name }, (event) => {
      throw new Error(event.eventType ?? "no type");
    });
  }

  for (const [i, payload] of PAYLOADS.entries()) {
    const endpoint = hostileNames[i % hostileNames.length]!;
    const headers = { "x-payload": payload, [`x-name-${i}-${payload}`]: payload, "content-type": "text/html" };
    // Trusted ingress: the app states every field. A NUL in the app's own text is refused
    // (test/ingest.test.ts), so those fields carry U+FFFD; the NUL itself still reaches the pages
    // through the headers, the query and the bodies.
    const own = payload.replaceAll("\u0000", "\uFFFD");
    const ingested = await webhooks.ingest({
      endpoint,
      body: JSON.stringify({ note: payload, nested: { [payload]: [payload] } }),
      headers,
      query: { [payload.slice(0, 40)]: payload, q: payload },
      eventType: own,
      providerEventId: `${own}#event`,
      providerDeliveryId: `${own}#delivery`,
      dedupeKey: `${own}#${i}`,
    });
    eventIds.push(ingested.eventId!);
    deliveryIds.push(ingested.deliveryId!);
    // A body that is not JSON: shown as text.
    const text = await webhooks.receive({ endpoint, body: `<html><body>${payload}</body></html>`, headers, eventType: `text-${i}` });
    eventIds.push(text.eventId!);
    // Verified by a provider that takes the hostile metadata from the body.
    const accepted = await webhooks.receive({ endpoint: "accepter", body: JSON.stringify({ id: `${payload}@${i}`, type: payload, delivery: payload }), headers });
    eventIds.push(accepted.eventId!);
    // Refused by providers whose errors carry the payload.
    deliveryIds.push((await webhooks.receive({ endpoint: "rejecter", body: payload, headers })).deliveryId!);
    deliveryIds.push((await webhooks.receive({ endpoint: "thrower", body: payload, headers })).deliveryId!);
  }
  // A duplicate receipt, so an event shows more than one.
  await webhooks.receive({ endpoint: "accepter", body: JSON.stringify({ id: `${PAYLOADS[0]}@0`, type: PAYLOADS[0], delivery: "dup" }), headers: { "x-payload": PAYLOADS[1]! } });
  // Handlers fail with the payloads: last_error and attempt errors.
  const controller = new AbortController();
  const worker = webhooks.runWorker({ signal: controller.signal });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const waiting = (await webhooks.listEvents({ status: "received" })).length + (await webhooks.listEvents({ status: "failed" })).length;
    if (waiting === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  controller.abort();
  await worker;
  // A prune, so the audits page has a row.
  await webhooks.pruneOrphanDeliveries({ olderThan: 1, limit: 1 });

  browser = await launchBrowser();
  served = await serve(webhooks.dashboard({ authorize: "local-only" }));
});

after(async () => {
  await browser?.close();
  await served?.close();
  await webhooks?.close();
});

function pages(): string[] {
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  const list = ["/", "/events", "/deliveries", "/deliveries?kind=invalid", "/deliveries?kind=orphaned", "/audits", "/no-such-page", "/events/999999"];
  for (const id of eventIds) list.push(`/events/${id}`);
  for (const id of deliveryIds) list.push(`/deliveries/${id}`);
  // Filters and lookups reflect what was typed: every field given a payload at once.
  for (const payload of PAYLOADS) {
    list.push(`/events${q({ type: payload, since: payload, until: payload, endpoint: payload, status: payload, before: payload })}`);
    list.push(`/events${q({ q: payload })}`);
    list.push(`/bulk${q({ action: "replay", type: payload, since: "30d" })}`);
    list.push(`/deliveries${q({ endpoint: payload, since: payload, kind: payload })}`);
  }
  for (const name of PAYLOADS.slice(0, 6)) list.push(`/events${q({ endpoint: name })}`, `/events${q({ endpoint: name, status: "dead" })}`, `/bulk${q({ action: "ignore", endpoint: name })}`);
  return list;
}

test("the corpus is stored as given: events, errors and rejected deliveries carry the payloads", async () => {
  assert.ok(eventIds.length >= PAYLOADS.length * 3);
  const dead = await webhooks.listEvents({ status: "dead", limit: 1000 });
  assert.ok(dead.some((event) => event.lastError?.includes("<script>")));
  const rejected = await webhooks.listDeliveries({ signatureValid: false, limit: 1000 });
  assert.ok(rejected.some((d) => d.signatureError?.startsWith("rejected: <script>")));
  assert.ok(rejected.some((d) => d.signatureError?.startsWith("provider error: hostile-thrower verify() failed") && d.signatureError.includes("<script>")));
  assert.ok((await webhooks.listEvents({ limit: 1000 })).some((event) => event.endpoint === PAYLOADS[0]));
});

test("visiting every page runs no injected script, and every response carries the CSP", async () => {
  const page = await browser.newPage();
  const watch = await instrument(page);
  const responses: Array<{ url: string; csp: string | undefined; status: number }> = [];
  page.on("response", (response: HTTPResponse) => responses.push({ url: response.url(), csp: response.headers()["content-security-policy"], status: response.status() }));
  const visited = pages();
  const raw = PAYLOADS.filter((p) => /[<>"']/.test(p));
  for (const route of visited) {
    const response = await page.goto(`${served.url}${route}`, { waitUntil: "load" });
    assert.ok(response, route);
    // Give autofocus, onload and timers a moment.
    await new Promise((r) => setTimeout(r, 15));
    const report = await page.evaluate(() => {
      const w = window as unknown as { __xss?: unknown; __violations?: string[] };
      const handlers: string[] = [];
      for (const el of document.querySelectorAll("*")) {
        for (const attr of el.getAttributeNames()) if (attr.toLowerCase().startsWith("on")) handlers.push(`${el.tagName} ${attr}`);
      }
      const scripts = [...document.querySelectorAll("script")].map((s) => s.getAttribute("src") ?? "inline");
      const links = [...document.querySelectorAll("[href],[src],[action],[formaction]")].map((el) => el.getAttribute("href") ?? el.getAttribute("src") ?? el.getAttribute("action") ?? el.getAttribute("formaction") ?? "");
      const foreign = [...document.querySelectorAll("iframe, img, base, meta[http-equiv], style, object, embed")].map((el) => el.tagName);
      return { xss: w.__xss ?? null, violations: w.__violations ?? [], handlers, scripts, links, foreign };
    });
    assert.equal(report.xss, null, `${route}: an injected script ran`);
    assert.deepEqual(watch.dialogs, [], `${route}: a dialog opened`);
    assert.deepEqual(report.violations, [], `${route}: the CSP had to block something`);
    assert.deepEqual(report.handlers, [], `${route}: event-handler attributes`);
    assert.deepEqual(report.foreign, [], `${route}: elements the dashboard never renders`);
    assert.equal(report.scripts.length, 1, `${route}: scripts ${report.scripts.join(", ")}`);
    assert.match(report.scripts[0]!, /^\/assets\/dashboard\.js\?v=[0-9a-f]+$/);
    for (const target of report.links) assert.match(target, /^\/(?!\/)/, `${route}: link ${target}`);
    // The bytes as sent (the serialised DOM would show attribute values unescaped).
    const html = await response.text();
    for (const payload of raw) assert.ok(!html.includes(payload), `${route}: a payload appears unescaped`);
  }
  assert.deepEqual(watch.errors, []);
  await page.close();
  assert.ok(responses.length >= visited.length + 2, `saw ${responses.length} responses`);
  for (const { url, csp, status } of responses) {
    assert.ok(csp, `${url} (${status}) has no CSP`);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  }
});

test("the templates quote every interpolated attribute value and build links only from the dashboard's own paths", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const dir = new URL("../src/dashboard/", import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".ts"));
  assert.ok(files.length >= 10);
  for (const file of files) {
    const source = readFileSync(new URL(file, dir), "utf8");
    if (!/from "\.\.?\/html\.js"/.test(source)) continue; // builds no HTML
    // An attribute value that is an interpolation must be inside double quotes: name="${…}".
    for (const match of source.matchAll(/[\w-]=\$\{/g)) assert.fail(`${file}: unquoted attribute value at ${source.slice(match.index, match.index + 40)}`);
    // href / src / action values start with a link() or a constant, never a stored value.
    for (const match of source.matchAll(/(?<![\w-])(?:href|src|action)="\$\{([^}]*)\}/g)) {
      assert.match(match[1]!, /^(?:link\(|back\b|back\.href|target)/, `${file}: ${match[0]}`);
    }
  }
});
