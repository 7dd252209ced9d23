// The dashboard's gates, on a real inbox: no way in without an `authorize` decision (401, no
// data, no cookie), actions only as same-origin POSTs with the CSRF token (anything else is
// refused and changes nothing), `readOnly` hides and refuses every action, and every answer
// carries the security headers.
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { KnockerError, open, type DashboardHandler, type Knocker } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { formPost, formSession, serve } from "./support/dashboard.js";

const BASE = "http://dash.test";
let webhooks: Knocker;
/** The app's own connection, handed to open(): the test's way to the queue rows. */
let db: Database.Database;
let deadId: number;
let deliveryId: number;

before(async () => {
  db = new Database(tempDbPath());
  webhooks = open(db, { maxAttempts: 1, retryBackoff: false });
  const orders = webhooks.endpoint("orders", { path: "/hooks/orders" });
  orders.handle(() => {
    throw new Error("secret-free failure");
  });
  const first = await orders.ingest({ body: '{"order":"ord_SECRET_DATA"}', eventType: "order.paid", dedupeKey: "o-1" });
  deadId = first.eventId!;
  deliveryId = first.deliveryId!;
  const controller = new AbortController();
  const worker = webhooks.runWorker({ signal: controller.signal });
  while ((await webhooks.getEvent(deadId))!.status !== "dead") await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await worker;
});

after(async () => {
  await webhooks.close();
  db.close();
});

async function status(): Promise<{ status: string; attempts: number; jobs: number }> {
  const event = (await webhooks.getEvent(deadId))!;
  const jobs = db.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get() as number;
  return { status: event.status, attempts: (await webhooks.listAttempts(deadId)).length, jobs };
}

const routes = () => ["/", "/events", `/events/${deadId}`, `/events/${deadId}/body`, `/deliveries/${deliveryId}`, "/deliveries?kind=invalid", "/audits", "/bulk?action=replay&status=dead", "/assets/dashboard.css", "/assets/dashboard.js", "/nope"];

function assertSecurityHeaders(response: Response, what: string): void {
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/, `${what}: CSP`);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: frame-ancestors`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, `${what}: no inline, no other origin`);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
}

test("dashboard() refuses to exist without an authorize decision, and checks its options", () => {
  for (const options of [undefined, {}, { authorize: true }, { authorize: "yes" }, { authorize: null }]) {
    assert.throws(() => webhooks.dashboard(options as never), (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_OPTION" && /authorize/.test(e.message));
  }
  assert.throws(() => webhooks.dashboard({ authorize: () => true, basePath: "ops" }), /basePath/);
  assert.throws(() => webhooks.dashboard({ authorize: () => true, basePath: "//evil.example/" }), /basePath/);
  assert.throws(() => webhooks.dashboard({ authorize: () => true, readOnly: "no" as never }), /readOnly/);
  assert.throws(() => webhooks.dashboard({ authorize: () => true, secret: "short" }), /secret/);
  assert.throws(() => webhooks.dashboard({ authorize: () => true, autorize: 1 } as never), /no option "autorize"/);
});

test("without authorization every route answers 401 with no data and no cookie; a throwing or async check refuses too", async () => {
  const refusers: Array<[string, DashboardHandler]> = [
    ["false", webhooks.dashboard({ authorize: () => false })],
    ["async false", webhooks.dashboard({ authorize: async () => false })],
    ["throws", webhooks.dashboard({ authorize: () => { throw new Error("auth backend down"); } })],
    ["rejects", webhooks.dashboard({ authorize: () => Promise.reject(new Error("down")) })],
    ["truthy non-boolean", webhooks.dashboard({ authorize: (() => "yes") as never })],
    ["local-only, no peer given", webhooks.dashboard({ authorize: "local-only" })],
  ];
  const before = await status();
  for (const [name, dashboard] of refusers) {
    for (const route of routes()) {
      const response = await dashboard(new Request(`${BASE}${route}`));
      assert.equal(response.status, 401, `${name} ${route}`);
      assert.equal(await response.text(), "Unauthorized\n", `${name} ${route}: no data`);
      assert.deepEqual(response.headers.getSetCookie(), [], `${name} ${route}: no cookie`);
      assertSecurityHeaders(response, `${name} ${route}`);
    }
    const post = await dashboard(formPost(`${BASE}/events/${deadId}/replay`, { csrf: "x" }));
    assert.equal(post.status, 401);
  }
  assert.deepEqual(await status(), before);
});

test("authorize may answer with its own Response (a Basic challenge, a login redirect), which gets the security headers", async () => {
  const password = "correct horse";
  const expected = `Basic ${Buffer.from(`ops:${password}`).toString("base64")}`;
  const dashboard = webhooks.dashboard({
    authorize: (request) =>
      request.headers.get("authorization") === expected ||
      new Response("Sign in\n", { status: 401, headers: { "www-authenticate": 'Basic realm="knocker", charset="UTF-8"' } }),
  });
  const challenge = await dashboard(new Request(`${BASE}/events`));
  assert.equal(challenge.status, 401);
  assert.equal(challenge.headers.get("www-authenticate"), 'Basic realm="knocker", charset="UTF-8"');
  assert.equal(await challenge.text(), "Sign in\n");
  assertSecurityHeaders(challenge, "challenge");
  assert.equal((await dashboard(new Request(`${BASE}/events`, { headers: { authorization: expected } }))).status, 200);
  const login = webhooks.dashboard({ authorize: () => Response.redirect("https://sso.example/login", 302) });
  const redirected = await login(new Request(`${BASE}/`));
  assert.equal(redirected.status, 302);
  assert.equal(redirected.headers.get("location"), "https://sso.example/login");
  assertSecurityHeaders(redirected, "redirect");
});

test('"local-only" lets in loopback peers that name a loopback host, and nobody else', async () => {
  const dashboard = webhooks.dashboard({ authorize: "local-only" });
  const cases: Array<[string | undefined, string, number]> = [
    ["127.0.0.1", "127.0.0.1:8788", 200],
    ["::1", "localhost:8788", 200],
    ["::ffff:127.0.0.1", "[::1]:8788", 200],
    ["127.0.0.1", "evil.example:8788", 401], // DNS rebinding: a loopback peer, a foreign name
    ["10.1.2.3", "127.0.0.1:8788", 401],
    ["192.168.0.7", "localhost", 401],
    [undefined, "localhost", 401],
  ];
  for (const [remoteAddress, host, expected] of cases) {
    const response = await dashboard(new Request(`http://${host}/`, { headers: { host } }), { remoteAddress });
    assert.equal(response.status, expected, `${remoteAddress} ${host}`);
  }
  // Through the Node adapter, which passes the socket's address.
  const served = await serve(dashboard);
  try {
    const response = await fetch(`${served.url}/events`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /order\.paid/);
    // fetch() will not send another Host: node:http will.
    const spoofed = await new Promise<number>((resolve, reject) => {
      request(`${served.url}/events`, { headers: { host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on("error", reject).end();
    });
    assert.equal(spoofed, 401);
  } finally {
    await served.close();
  }
});

test("an action needs a same-origin POST with the CSRF token bound to the browser's cookie; anything else changes nothing", async () => {
  const dashboard = webhooks.dashboard({ authorize: () => true });
  const eventUrl = `${BASE}/events/${deadId}`;
  const { cookie, csrf } = await formSession(dashboard, eventUrl);
  const other = await formSession(dashboard, eventUrl); // another browser: its own cookie and token
  const action = `${BASE}/events/${deadId}/replay`;
  const before = await status();
  assert.equal(before.status, "dead");

  const refused: Array<[string, Request, number]> = [
    ["no token", formPost(action, {}, { cookie }), 403],
    ["a wrong token", formPost(action, { csrf: "A".repeat(43) }, { cookie }), 403],
    ["the token without its cookie", formPost(action, { csrf }), 403],
    ["another browser's token", formPost(action, { csrf: other.csrf }, { cookie }), 403],
    ["the token with another browser's cookie", formPost(action, { csrf }, { cookie: other.cookie }), 403],
    ["a foreign Origin", formPost(action, { csrf }, { cookie, origin: "https://evil.example" }), 403],
    ["Origin null", formPost(action, { csrf }, { cookie, origin: "null" }), 403],
    ["Sec-Fetch-Site cross-site", formPost(action, { csrf }, { cookie, "sec-fetch-site": "cross-site" }), 403],
    ["Sec-Fetch-Site same-site", formPost(action, { csrf }, { cookie, "sec-fetch-site": "same-site" }), 403],
    ["a text/plain body (a CORS-simple request)", new Request(action, { method: "POST", headers: { cookie, "content-type": "text/plain" }, body: `csrf=${csrf}` }), 415],
    ["GET", new Request(action, { headers: { cookie } }), 404],
    ["PUT", new Request(action, { method: "PUT", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${csrf}` }), 405],
  ];
  for (const [name, request, expected] of refused) {
    const response = await dashboard(request);
    assert.equal(response.status, expected, name);
    assertSecurityHeaders(response, name);
    assert.deepEqual(await status(), before, `${name}: nothing changed`);
  }
  // A form too large is not read.
  const huge = await dashboard(formPost(action, { csrf, pad: "x".repeat(70_000) }, { cookie }));
  assert.equal(huge.status, 413);
  assert.deepEqual(await status(), before);

  // The same request from the dashboard's own page goes through.
  const ok = await dashboard(formPost(action, { csrf }, { cookie, origin: BASE, "sec-fetch-site": "same-origin", host: "dash.test" }));
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), `/events/${deadId}?done=replay`);
  assert.equal((await status()).status, "received");
  // Bulk confirmations are checked the same way.
  const bulk = await dashboard(formPost(`${BASE}/bulk`, { action: "ignore", status: "received", through: "999", expected: "1", digest: "x" }, { cookie }));
  assert.equal(bulk.status, 403);
  assert.equal((await status()).status, "received");
  await webhooks.ignore(deadId);
});

test("readOnly hides every action and refuses every action request, token or not", async () => {
  const dashboard = webhooks.dashboard({ authorize: () => true, readOnly: true });
  for (const route of [`/events/${deadId}`, `/deliveries/${deliveryId}`, "/events?status=ignored", "/bulk?action=replay&status=ignored"]) {
    const response = await dashboard(new Request(`${BASE}${route}`));
    assert.equal(response.status, 200, route);
    const html = await response.text();
    assert.doesNotMatch(html, /method="post"/i, `${route}: no form posts`);
    assert.doesNotMatch(html, /data-action=|Preview \(dry run\)/, `${route}: no action buttons`);
    assert.match(html, /read-only/);
  }
  // A token from a writable dashboard on the same key does not help: read-only refuses first.
  const writable = webhooks.dashboard({ authorize: () => true, secret: "0123456789abcdef0123" });
  const readOnly = webhooks.dashboard({ authorize: () => true, secret: "0123456789abcdef0123", readOnly: true });
  const { cookie, csrf } = await formSession(writable, `${BASE}/events/${deadId}`);
  const before = await status();
  for (const route of [`/events/${deadId}/replay`, `/events/${deadId}/requeue`, `/deliveries/${deliveryId}/replay`, "/bulk"]) {
    const response = await readOnly(formPost(`${BASE}${route}`, { csrf, action: "replay", status: "ignored" }, { cookie }));
    assert.equal(response.status, 403, route);
    assert.deepEqual(await status(), before, `${route}: nothing changed`);
  }
});

test("every answer carries the CSP and nosniff; the raw body is a sandboxed download; basePath scopes everything", async () => {
  const dashboard = webhooks.dashboard({ authorize: () => true });
  for (const route of routes()) {
    const response = await dashboard(new Request(`${BASE}${route}`));
    assert.ok(response.status === 200 || response.status === 404, `${route}: ${response.status}`);
    assertSecurityHeaders(response, route);
  }
  const body = await dashboard(new Request(`${BASE}/events/${deadId}/body`));
  assert.equal(body.headers.get("content-type"), "application/octet-stream");
  assert.match(body.headers.get("content-disposition") ?? "", /^attachment;/);
  assert.match(body.headers.get("content-security-policy") ?? "", /sandbox/);
  assert.equal(await body.text(), '{"order":"ord_SECRET_DATA"}');

  const mounted = webhooks.dashboard({ authorize: () => true, basePath: "/ops/knocker" });
  assert.equal((await mounted(new Request(`${BASE}/`))).status, 404);
  assert.equal((await mounted(new Request(`${BASE}/events`))).status, 404);
  const bare = await mounted(new Request(`${BASE}/ops/knocker`));
  assert.equal(bare.status, 308);
  assert.equal(bare.headers.get("location"), "/ops/knocker/");
  const page = await mounted(new Request(`${BASE}/ops/knocker/events`));
  assert.equal(page.status, 200);
  const html = await page.text();
  const links = [...html.matchAll(/(?:href|action|src)="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(links.length > 5);
  for (const target of links) assert.ok(target.startsWith("/ops/knocker/"), `link ${target} stays under the base path`);
  assert.match(page.headers.getSetCookie()[0] ?? "", /Path=\/ops\/knocker\/; HttpOnly; SameSite=Strict/);
});

test("credentials in stored headers are never shown, also ones another process stored unredacted", async () => {
  const path = tempDbPath();
  // The process that stored them had no provider on the endpoint: its secret header was kept.
  const writer = open(path);
  writer.endpoint("hooks", { path: "/hooks" });
  const { eventId } = await writer.ingest({
    endpoint: "hooks",
    body: "{}",
    headers: { "x-hook-key": "hk_SECRET_1", "x-api-key": "sk_live_SECRET_2", "x-auth-token": "SECRET_3", authorization: "Bearer SECRET_4", "x-request-id": "req_visible" },
    eventType: "t",
  });
  await writer.close();
  // The dashboard's process registers the endpoint with a provider whose secret header it is.
  const reader = open(path);
  reader.endpoint("hooks", { path: "/hooks", provider: "token-header", secrets: ["hk_SECRET_1"], providerOptions: { header: "x-hook-key" } });
  try {
    const dashboard = reader.dashboard({ authorize: () => true });
    const html = await (await dashboard(new Request(`${BASE}/events/${eventId}`))).text();
    assert.doesNotMatch(html, /SECRET/);
    assert.match(html, /req_visible/);
    assert.equal(html.match(/\[redacted\]/g)?.length, 4);
  } finally {
    await reader.close();
  }
});

test("a closed inbox answers 503 and nothing else", async () => {
  const other = open(tempDbPath());
  const dashboard = other.dashboard({ authorize: () => true });
  await other.close();
  const response = await dashboard(new Request(`${BASE}/events`));
  assert.equal(response.status, 503);
  assertSecurityHeaders(response, "closed");
  assert.throws(() => other.dashboard({ authorize: () => true }), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
});
