// Endpoint registration (CONTRACT §2, §8): names, paths, providers, secrets and options.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KnockerError, open, Provider, ProviderResult } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { engineMatrix } from "./support/engines.js";

const engines = engineMatrix();

const code = (c: string, pattern?: RegExp) => (e: unknown) => e instanceof KnockerError && e.code === c && (!pattern || pattern.test(e.message));

class Acme extends Provider {
  readonly name: string;
  readonly version = "1.0.0";
  override readonly optionKeys = ["region"];
  constructor(name = "acme") {
    super();
    this.name = name;
  }
  verify(_request: unknown, _context: { secrets: readonly string[]; options: Readonly<Record<string, unknown>> }) {
    return ProviderResult.accept();
  }
  override validateOptions(options: Record<string, unknown>) {
    if (options.region !== undefined && typeof options.region !== "string") throw new Error("region must be a string");
    return { region: "eu", ...options };
  }
}

// Registration persisted, on every engine.
for (const engine of engines) {
  describe(engine.name, () => {
    test("endpoint() and addEndpoint() register and persist name, path, provider name and enabled — never secrets", async () => {
      const { webhooks, sql } = await engine.inbox();
      const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_topsecret"], providerOptions: { toleranceS: 60 } });
      assert.equal(stripe.name, "stripe");
      assert.equal(stripe.path, "/webhooks/stripe");
      webhooks.addEndpoint({ name: "acme", path: "/acme", provider: new Acme(), secrets: ["acme-secret"], enabled: false });
      await webhooks.listEvents({ limit: 1 }); // on Postgres the rows are written in the background: wait for them
      const rows = await sql.all("SELECT name, path, provider, enabled FROM knocker_endpoints ORDER BY id");
      assert.deepEqual(rows, [
        { name: "stripe", path: "/webhooks/stripe", provider: "stripe", enabled: 1 },
        { name: "acme", path: "/acme", provider: "acme", enabled: 0 },
      ]);
      const dump = JSON.stringify(await sql.all("SELECT * FROM knocker_endpoints"));
      assert.ok(!dump.includes("topsecret") && !dump.includes("acme-secret"));
      await webhooks.close();
    });

    test("re-registering an endpoint in a later process keeps its id; a path owned by another endpoint is refused", async () => {
      const path = (await engine.location()).db;
      const first = open(path);
      const r = await first.endpoint("a", { path: "/a" }).receive({ body: "{}" });
      await first.close();
      const second = open(path);
      second.endpoint("a", { path: "/a2" });
      assert.equal((await second.getEvent(r.eventId!))!.endpoint, "a");
      assert.throws(() => second.endpoint("b", { path: "/a2" }), code("ERR_DUPLICATE_ENDPOINT", /path "\/a2"/));
      await second.close();
      const third = open(path);
      if (engine.name === "sqlite") {
        assert.throws(() => third.endpoint("c", { path: "/a2" }), code("ERR_ENDPOINT_CONFLICT", /recorded in the database for endpoint "a"/));
      } else {
        // Registration on Postgres does not wait for the server: the conflict fails the first call that needs the endpoint rows.
        third.endpoint("c", { path: "/a2" });
        await assert.rejects(third.listEvents(), code("ERR_ENDPOINT_CONFLICT", /recorded in the database for endpoint "a"/));
      }
      await third.close();
    });
  });
}

test("registration errors surface at registration time, naming the endpoint, provider and key", async () => {
  const webhooks = open(tempDbPath());
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe-ish", secrets: ["s"] }), code("ERR_UNKNOWN_PROVIDER", /unknown provider "stripe-ish"/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe" }), code("ERR_MISSING_SECRETS", /"stripe" requires at least one non-empty secret/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: [] }), code("ERR_MISSING_SECRETS"));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: [""] }), code("ERR_MISSING_SECRETS"));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: ["s"], providerOptions: { tolerance: 5 } }), code("ERR_INVALID_PROVIDER_OPTION", /unknown option "tolerance" for provider "stripe"/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: ["s"], providerOptions: { toleranceS: "5" } }), code("ERR_INVALID_PROVIDER_OPTION", /^endpoint "x": stripe provider option "toleranceS"/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: "github", secrets: ["s"], providerOptions: { any: 1 } }), code("ERR_INVALID_PROVIDER_OPTION", /it takes no options/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: new Acme("stripe"), secrets: ["s"] }), code("ERR_PROVIDER_NAME_RESERVED", /"stripe" is reserved/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: new Acme(), secrets: ["acme-secret"], providerOptions: { region: 5 } }), code("ERR_INVALID_PROVIDER_OPTION", /region must be a string/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: new Acme(), secrets: ["acme-secret"], providerOptions: { zone: 5 } }), code("ERR_INVALID_PROVIDER_OPTION", /unknown option "zone" for provider "acme"/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", providerOptions: { a: 1 } }), code("ERR_INVALID_PROVIDER_OPTION", /no provider/));
  assert.throws(() => webhooks.endpoint("", { path: "/x" }), code("ERR_INVALID_ARGUMENT"));
  assert.throws(() => webhooks.endpoint("x", { path: "x" }), code("ERR_INVALID_ARGUMENT", /path must be a string starting with "\/"/));
  assert.throws(() => webhooks.endpoint("x", { path: "/x", provider: {} as never }), TypeError);
  assert.equal((await webhooks.listEvents()).length, 0);
  // Nothing half-registered: the name is still free.
  webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: ["s"] });
  assert.throws(() => webhooks.endpoint("x", { path: "/y" }), code("ERR_DUPLICATE_ENDPOINT"));
  await webhooks.close();
});

test("no error message contains a secret, even when a provider's own check quotes it", async () => {
  const webhooks = open(tempDbPath());
  const secret = "whsec_do_not_leak";
  const quoting = new (class extends Acme {
    override validateSecrets(secrets: readonly string[]) {
      throw new Error(`key ${secrets[0]} is not a PEM block`);
    }
  })("quoting");
  const attempts: Array<() => unknown> = [
    () => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: [secret], providerOptions: { toleranceS: -1 } }),
    () => webhooks.endpoint("x", { path: "/x", provider: "stripe", secrets: [secret], providerOptions: { nope: true } }),
    () => webhooks.endpoint("x", { path: "/x", provider: "sendgrid", secrets: [secret] }),
    () => webhooks.endpoint("x", { path: "/x", provider: "discord", secrets: [secret] }),
    () => webhooks.endpoint("x", { path: "/x", provider: quoting, secrets: [secret] }),
  ];
  for (const attempt of attempts) {
    assert.throws(attempt, (error: unknown) => error instanceof KnockerError && !error.message.includes(secret) && !String(error.stack).includes(secret));
  }
  assert.throws(attempts[4]!, /provider "quoting" rejected a secret: key \[redacted\] is not a PEM block/);
  await webhooks.close();
});

test("providerVersions() returns a fresh copy of the 21 curated versions; custom providers are not listed", async () => {
  const webhooks = open(tempDbPath());
  webhooks.endpoint("acme", { path: "/acme", provider: new Acme(), secrets: ["s"] });
  const versions = webhooks.providerVersions();
  assert.deepEqual(Object.keys(versions).sort(), [
    "basic-auth", "bearer-token", "clerk", "discord", "github", "hubspot", "intercom", "lemon-squeezy", "linear", "meta",
    "paddle", "postmark", "resend", "sendgrid", "shopify", "slack", "standard-webhooks", "stripe", "token-header", "twilio", "zendesk",
  ]);
  assert.ok(Object.values(versions).every((v) => v === "1.0.0"));
  versions.stripe = "9.9.9";
  assert.equal(webhooks.providerVersions().stripe, "1.0.0");
  await webhooks.close();
});

test("custom providers receive their validated options with defaults and every secret", async () => {
  const webhooks = open(tempDbPath());
  let seen: unknown;
  const provider = new (class extends Acme {
    override verify(_req: unknown, ctx: { secrets: readonly string[]; options: Readonly<Record<string, unknown>> }) {
      seen = { secrets: ctx.secrets, options: ctx.options };
      return ProviderResult.accept();
    }
  })();
  await webhooks.endpoint("acme", { path: "/acme", provider, secrets: ["a", "b"] }).receive({ body: "{}" });
  assert.deepEqual(seen, { secrets: ["a", "b"], options: { region: "eu" } });
  await webhooks.close();
});

test("redaction replaces the longest secret first and covers a custom provider's option and name-list errors", async () => {
  const webhooks = open(tempDbPath());
  const secrets = ["user:pass", "user:pass2024"]; // one rotation secret is a prefix of the other
  const echo = (text: string) => new (class extends Acme {
    override validateOptions(): { region: string } {
      throw new KnockerError("ERR_INVALID_PROVIDER_OPTION", text);
    }
  })("echo");
  assert.throws(() => webhooks.endpoint("a", { path: "/a", provider: echo("bad user:pass2024 and user:pass"), secrets }),
    (e: unknown) => e instanceof KnockerError && e.message === 'endpoint "a": bad [redacted] and [redacted]' && e.cause === undefined);
  const names = Object.assign(new Acme("names"), { secretHeaders: () => { throw new Error("no header for user:pass2024"); } });
  assert.throws(() => webhooks.endpoint("b", { path: "/b", provider: names, secrets }), /secretHeaders\(\) failed: no header for \[redacted\]$/);
  await webhooks.close();
});

test("addEndpoint(), runWorker() and runRetention() refuse option keys they do not know", async () => {
  const webhooks = open(tempDbPath());
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT" && pattern.test(e.message);
  assert.throws(() => webhooks.endpoint("s", { path: "/s", provider: "stripe", secrets: ["whsec_x"], providerOption: { toleranceS: 5 } } as never),
    refused(/addEndpoint\(\) has no option "providerOption"/));
  await assert.rejects(webhooks.runWorker({ signl: AbortSignal.abort() } as never), refused(/runWorker\(\) has no option "signl"/));
  await assert.rejects(webhooks.runRetention({ intervalS: 60, eventOlderThanS: 60 }, { sigal: AbortSignal.abort() } as never), refused(/runRetention\(\) has no option "sigal"/));
  await webhooks.close();
});
