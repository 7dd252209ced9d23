// `knocker sign`: for each of the 21 curated providers, the built bin signs a body and the real
// receive() of that provider accepts it (and refuses it under another secret); official packages
// agree where one exists; `--send` over loopback HTTP to webhooks.nodeHandler() ends in a stored,
// valid, handled event.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { before, test } from "node:test";
import { verify as githubVerify } from "@octokit/webhooks-methods";
import Database from "better-sqlite3";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { open } from "../src/index.js";
import { buildBin, fails, knocker, ok, okJson } from "./support/cli.js";
import { tempDbPath, tempDir } from "./support.js";

interface SignJson {
  provider: string;
  method: string;
  url: string | null;
  headers: Record<string, string>;
  verificationKey?: string;
  response?: { status: number; statusText: string; body: string };
}

let dir: string;
const pem = { ed25519: "", otherEd25519: "", p256: "", otherP256: "" };
const whsec = (bytes: Buffer) => `whsec_${bytes.toString("base64")}`;

before(() => {
  buildBin();
  dir = tempDir();
  const write = (name: string, key: string) => {
    const path = join(dir, name);
    writeFileSync(path, key);
    return path;
  };
  const ed = () => generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const ec = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
  pem.ed25519 = write("ed25519.pem", ed());
  pem.otherEd25519 = write("other-ed25519.pem", ed());
  pem.p256 = write("p256.pem", ec());
  pem.otherP256 = write("other-p256.pem", ec());
});

function bodyFile(name: string, body: string): string {
  const path = join(dir, `${name}.body`);
  writeFileSync(path, body);
  return path;
}

interface Case {
  provider: string;
  body: string;
  /** How to sign: --secret S, or --secret-file for a PEM key. */
  secret?: string;
  keyFile?: keyof typeof pem;
  /** The endpoint's secret when it is not the signing secret (key pairs: taken from verificationKey). */
  otherSecret?: string;
  otherKeyFile?: keyof typeof pem;
  args?: string[];
  providerOptions?: Record<string, unknown>;
  expect: { eventType: string | null; providerEventId?: string | null; providerDeliveryId?: string | null };
}

const standardSecret = whsec(Buffer.from("cli-sign-standard-webhooks-key!!"));
const CASES: Case[] = [
  { provider: "stripe", secret: "whsec_cli_sign", otherSecret: "whsec_other", body: '{"id":"evt_sign","object":"event","type":"invoice.paid"}', expect: { eventType: "invoice.paid", providerEventId: "evt_sign" } },
  {
    provider: "github", secret: "gh-secret", otherSecret: "gh-other", body: '{"ref":"refs/heads/main"}',
    args: ["--header", "X-GitHub-Event=push", "--header", "X-GitHub-Delivery=d-1"], expect: { eventType: "push", providerDeliveryId: "d-1" },
  },
  {
    provider: "shopify", secret: "shpss_secret", otherSecret: "shpss_other", body: '{"id":820982911946154500}',
    args: ["--header", "X-Shopify-Topic=orders/create", "--header", "X-Shopify-Event-Id=e-1"], expect: { eventType: "orders/create", providerEventId: "e-1" },
  },
  {
    provider: "slack", secret: "slack-signing", otherSecret: "slack-other",
    body: '{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","text":"hi"}}', expect: { eventType: "app_mention", providerEventId: "Ev1" },
  },
  { provider: "slack", secret: "slack-signing", otherSecret: "slack-other", body: `payload=${encodeURIComponent('{"type":"block_actions"}')}`, expect: { eventType: "block_actions" } },
  { provider: "postmark", secret: "hook:pa55", otherSecret: "hook:other", body: '{"RecordType":"Delivery","MessageID":"m1"}', expect: { eventType: "Delivery", providerEventId: null } },
  {
    provider: "resend", secret: whsec(Buffer.from("resend-key")), otherSecret: whsec(Buffer.from("other-key")), body: '{"type":"email.delivered","data":{"email_id":"e1"}}',
    args: ["--header", "svix-id=msg_resend_1"], expect: { eventType: "email.delivered", providerEventId: "msg_resend_1" },
  },
  {
    provider: "paddle", secret: "pdl_ntfset_secret", otherSecret: "pdl_other",
    body: '{"event_id":"evt_p1","event_type":"transaction.completed","notification_id":"ntf_1","data":{"id":"txn_1"}}',
    expect: { eventType: "transaction.completed", providerEventId: "evt_p1", providerDeliveryId: "ntf_1" },
  },
  { provider: "lemon-squeezy", secret: "ls-secret", otherSecret: "ls-other", body: '{"meta":{"event_name":"order_created"},"data":{"id":"1"}}', expect: { eventType: "order_created" } },
  {
    provider: "standard-webhooks", secret: standardSecret, otherSecret: whsec(Buffer.from("other-standard-webhooks-key!!!!!")), body: '{"type":"user.created"}',
    args: ["--header", "webhook-id=msg_std_1"], expect: { eventType: "user.created", providerEventId: "msg_std_1" },
  },
  { provider: "standard-webhooks", keyFile: "ed25519", otherKeyFile: "otherEd25519", body: '{"type":"user.deleted"}', expect: { eventType: "user.deleted" } },
  { provider: "clerk", secret: whsec(Buffer.from("clerk-key")), otherSecret: whsec(Buffer.from("clerk-other")), body: '{"type":"user.created","data":{"id":"user_1"}}', expect: { eventType: "user.created" } },
  {
    provider: "twilio", secret: "twilio-auth-token", otherSecret: "other-token", body: '{"EventType":"com.twilio.messaging.message.delivered"}',
    args: ["--url", "https://example.com/webhooks/twilio"], providerOptions: { url: "https://example.com/webhooks/twilio" },
    expect: { eventType: "com.twilio.messaging.message.delivered" },
  },
  {
    provider: "twilio", secret: "twilio-auth-token", otherSecret: "other-token", body: "MessageSid=SM1&MessageStatus=delivered&To=%2B15551234567",
    args: ["--url", "https://example.com/webhooks/twilio?account=a1"], providerOptions: { url: "https://example.com/webhooks/twilio" },
    expect: { eventType: "delivered" },
  },
  { provider: "sendgrid", keyFile: "p256", otherKeyFile: "otherP256", body: '[{"event":"delivered","sg_event_id":"sg1","sg_message_id":"m1"}]', expect: { eventType: "delivered", providerEventId: "sg1" } },
  {
    provider: "linear", secret: "lin_wh_secret", otherSecret: "lin_other", body: JSON.stringify({ type: "Issue", action: "create", webhookTimestamp: Date.now(), data: { id: "i1" } }),
    args: ["--header", "Linear-Delivery=ld-1"], expect: { eventType: "Issue.create", providerDeliveryId: "ld-1" },
  },
  { provider: "meta", secret: "meta-app-secret", otherSecret: "meta-other", body: '{"object":"page","entry":[]}', expect: { eventType: "page" } },
  { provider: "discord", keyFile: "ed25519", otherKeyFile: "otherEd25519", body: '{"type":2,"id":"int_1","data":{"name":"ping"}}', expect: { eventType: "2", providerEventId: "int_1" } },
  {
    provider: "zendesk", secret: "zd-secret", otherSecret: "zd-other", body: '{"type":"zen:event-type:ticket.created","id":"z1","detail":{"id":"5"}}',
    args: ["--header", "X-Zendesk-Webhook-Invocation-Id=inv-1"], expect: { eventType: "zen:event-type:ticket.created", providerEventId: "z1", providerDeliveryId: "inv-1" },
  },
  { provider: "intercom", secret: "ic-secret", otherSecret: "ic-other", body: '{"topic":"conversation.user.created","id":"notif_1"}', expect: { eventType: "conversation.user.created", providerEventId: "notif_1" } },
  {
    provider: "hubspot", secret: "hs-client-secret", otherSecret: "hs-other", body: '[{"subscriptionType":"contact.creation","eventId":101}]',
    args: ["--url", "https://example.com/webhooks/hubspot"], providerOptions: { url: "https://example.com/webhooks/hubspot" },
    expect: { eventType: "contact.creation", providerEventId: "101" },
  },
  {
    provider: "token-header", secret: "tok-123", otherSecret: "tok-other", body: '{"type":"thing.done","id":"t1"}',
    args: ["--token-header", "X-Acme-Token"], providerOptions: { header: "x-acme-token" }, expect: { eventType: "thing.done", providerEventId: "t1" },
  },
  { provider: "bearer-token", secret: "bearer-123", otherSecret: "bearer-other", body: '{"type":"b","id":"b1"}', expect: { eventType: "b", providerEventId: "b1" } },
  { provider: "basic-auth", secret: "user:pa55", otherSecret: "user:other", body: '{"type":"c","id":"c1"}', expect: { eventType: "c", providerEventId: "c1" } },
];

test("every curated provider has a signer, and a case here", async () => {
  const webhooks = open(tempDbPath());
  const curated = Object.keys(webhooks.providerVersions()).sort();
  await webhooks.close();
  assert.equal(curated.length, 21);
  assert.deepEqual([...new Set(CASES.map((c) => c.provider))].sort(), curated);
  const help = await ok(["sign", "--help"]);
  for (const provider of curated) assert.match(help, new RegExp(`^ {2}${provider} +--secret: `, "m"));
});

for (const [index, c] of CASES.entries()) {
  test(`sign ${c.provider} (${index}): receive() of ${c.provider} accepts it, and refuses it under another secret`, async () => {
    const secretArgs = (key?: keyof typeof pem, secret?: string) => (key ? ["--secret-file", pem[key]] : ["--secret", secret!]);
    const signed = await okJson<SignJson>(["sign", c.provider, ...secretArgs(c.keyFile, c.secret), "--body", bodyFile(`${c.provider}-${index}`, c.body), ...(c.args ?? [])]);
    assert.equal(signed.provider, c.provider);
    let secret = c.secret!;
    let otherSecret = c.otherSecret!;
    if (c.keyFile) {
      // Key pairs: the endpoint is configured with the public key the signer printed.
      assert.ok(signed.verificationKey, "a key-pair signer reports the verification key");
      secret = signed.verificationKey!;
      otherSecret = (await okJson<SignJson>(["sign", c.provider, ...secretArgs(c.otherKeyFile), "--body", bodyFile("other", "{}")])).verificationKey!;
    } else {
      assert.equal(signed.verificationKey, undefined);
    }
    const query = signed.url === null ? {} : Object.fromEntries(new URL(signed.url).searchParams);

    const webhooks = open(tempDbPath());
    try {
      const options = c.providerOptions ? { providerOptions: c.providerOptions } : {};
      webhooks.endpoint("right", { path: "/right", provider: c.provider, secrets: [secret], ...options });
      webhooks.endpoint("wrong", { path: "/wrong", provider: c.provider, secrets: [otherSecret], ...options });
      const result = await webhooks.receive({ endpoint: "right", body: c.body, headers: signed.headers, query });
      const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
      assert.equal(delivery.signatureError, null);
      assert.equal(result.statusCode, 204);
      assert.equal(delivery.signatureValid, true);
      assert.notEqual(result.eventId, null);
      const event = (await webhooks.getEvent(result.eventId!))!;
      assert.equal(event.eventType, c.expect.eventType);
      if (c.expect.providerEventId !== undefined) assert.equal(event.providerEventId, c.expect.providerEventId);
      if (c.expect.providerDeliveryId !== undefined) assert.equal(event.providerDeliveryId, c.expect.providerDeliveryId);

      const refused = await webhooks.receive({ endpoint: "wrong", body: c.body, headers: signed.headers, query });
      assert.equal(refused.statusCode, 401);
      assert.match((await webhooks.getDelivery(refused.deliveryId!))!.signatureError!, new RegExp(`${c.provider} (signature|credentials|token) mismatch`));
    } finally {
      await webhooks.close();
    }
  });
}

test("official packages agree: stripe's test header, standardwebhooks' verify, octokit's verify", async () => {
  const body = '{"id":"evt_oracle","object":"event","type":"invoice.paid"}';
  const file = bodyFile("oracle", body);
  const stripe = await okJson<SignJson>(["sign", "stripe", "--secret", "whsec_oracle", "--body", file, "--timestamp", "1700000000"]);
  const expected = new Stripe("sk_test_oracle").webhooks.generateTestHeaderString({ payload: body, secret: "whsec_oracle", timestamp: 1700000000 });
  assert.equal(stripe.headers["Stripe-Signature"], expected);

  const standard = await okJson<SignJson>(["sign", "standard-webhooks", "--secret", standardSecret, "--body", file]);
  assert.deepEqual(new Webhook(standardSecret).verify(body, standard.headers), JSON.parse(body));

  const github = await okJson<SignJson>(["sign", "github", "--secret", "gh-oracle", "--body", file, "--header", "X-GitHub-Event=ping"]);
  assert.equal(await githubVerify("gh-oracle", body, github.headers["X-Hub-Signature-256"]!), true);
  assert.equal(await githubVerify("not-it", body, github.headers["X-Hub-Signature-256"]!), false);
});

test("human output: the headers one per line; the key pair's public key and warnings on stderr", async () => {
  const body = '{"id":"evt_human","type":"invoice.paid"}';
  const file = bodyFile("human", body);
  const digest = createHmac("sha256", "whsec_human").update(`1700000000.${body}`).digest("hex");
  assert.equal(
    await ok(["sign", "stripe", "--secret", "whsec_human", "--body", file, "--timestamp", "1700000000"]),
    `Content-Type: application/json\nStripe-Signature: t=1700000000,v1=${digest}\n`,
  );
  const withUrl = await ok(["sign", "bearer-token", "--secret", "tok", "--body", file, "--url", "https://example.com/in", "--header", "X-Extra: 1"]);
  assert.equal(withUrl, "POST https://example.com/in\nContent-Type: application/json\nAuthorization: Bearer tok\nX-Extra: 1\n");

  const discord = await knocker(["sign", "discord", "--secret-file", pem.ed25519, "--body", file, "--timestamp", "1700000000"]);
  assert.equal(discord.code, 0);
  assert.match(discord.stdout, /^Content-Type: application\/json\nX-Signature-Ed25519: [0-9a-f]{128}\nX-Signature-Timestamp: 1700000000\n$/);
  assert.match(discord.stderr, /^knocker: configure the endpoint with this public key as its secret: [0-9a-f]{64}\n$/);

  const github = await knocker(["sign", "github", "--secret", "s", "--body", file]);
  assert.equal(github.code, 0);
  assert.equal(github.stderr, "knocker: warning: github sends the event name in X-GitHub-Event: add --header X-GitHub-Event=<name>\n");
  const linear = await knocker(["sign", "linear", "--secret", "s", "--body", file]);
  assert.match(linear.stderr, /^knocker: warning: linear checks the body's webhookTimestamp/);
});

test("--body - reads stdin byte for byte; --secret-file reads the secret without its trailing newline", async () => {
  const body = Buffer.from('{"id":"evt_stdin","type":"caf\u00e9"}\n\n', "utf8");
  const secretFile = join(dir, "stripe.secret");
  writeFileSync(secretFile, "whsec_from_file\n");
  const signed = await okJson<SignJson>(["sign", "stripe", "--secret-file", secretFile, "--body", "-"], { stdin: body });
  const webhooks = open(tempDbPath());
  try {
    webhooks.endpoint("stripe", { path: "/s", provider: "stripe", secrets: ["whsec_from_file"] });
    const result = await webhooks.receive({ endpoint: "stripe", body, headers: signed.headers });
    assert.equal(result.statusCode, 204);
    assert.deepEqual((await webhooks.getEvent(result.eventId!))!.body, body);
  } finally {
    await webhooks.close();
  }
});

test("sign usage errors: exit 2, one line, and never the secret", async () => {
  const file = bodyFile("usage", "{}");
  assert.match(await fails(2, ["sign", "acme", "--secret", "s", "--body", file]), /^knocker: no signer for provider "acme"; one of: stripe, github, /);
  assert.equal(await fails(2, ["sign", "stripe", "--body", file]), "knocker: sign needs --secret S or --secret-file FILE");
  assert.equal(await fails(2, ["sign", "stripe", "--secret", "s"]), "knocker: sign needs --body FILE (or --body - to read stdin)");
  assert.equal(await fails(2, ["sign", "stripe", "--secret", "s", "--body", join(dir, "missing.json")]), `knocker: cannot read --body ${join(dir, "missing.json")}: no such file`);
  assert.equal(await fails(2, ["sign", "--secret", "s", "--body", file]), "knocker: sign needs <provider>");
  assert.equal(await fails(2, ["sign", "twilio", "--secret", "s", "--body", file]), "knocker: twilio signs the URL it calls: pass --url URL (the endpoint's url option) or --send URL");
  assert.equal(await fails(2, ["sign", "hubspot", "--secret", "s", "--body", file, "--url", "ftp://x"]), 'knocker: --url must be an http(s) URL, got "ftp://x"');
  assert.equal(await fails(2, ["sign", "stripe", "--secret", "s", "--body", file, "--header", "no-value"]),
    'knocker: --header takes name=value (e.g. --header X-GitHub-Event=push), got "no-value"');

  const secret = "TOP-SECRET-VALUE-42";
  for (const provider of ["discord", "sendgrid"]) {
    const line = await fails(2, ["sign", provider, "--secret", secret, "--body", file]);
    assert.match(line, new RegExp(`^knocker: ${provider} signs with an (Ed25519|ECDSA P-256) private key in PEM`));
    assert.doesNotMatch(line, /TOP-SECRET/);
  }
  for (const provider of ["postmark", "basic-auth"]) {
    assert.equal(await fails(2, ["sign", provider, "--secret", secret, "--body", file]), `knocker: ${provider} secret must be the credentials user:pass`);
  }
  assert.equal(await fails(2, ["sign", "sendgrid", "--secret-file", pem.ed25519, "--body", file]),
    "knocker: sendgrid: the key given is an ed25519 key, expected an ECDSA P-256 private key in PEM");
  assert.equal(await fails(2, ["sign", "resend", "--secret-file", pem.ed25519, "--body", file]), "knocker: resend signs with a whsec_ secret (HMAC), not a private key");
  const garbled = join(dir, "garbled.pem");
  writeFileSync(garbled, `-----BEGIN PRIVATE KEY-----\n${randomBytes(30).toString("base64")}\n-----END PRIVATE KEY-----\n`);
  assert.equal(await fails(2, ["sign", "discord", "--secret-file", garbled, "--body", file]),
    "knocker: discord: the key given is not a readable PEM private key (expected an Ed25519 private key in PEM)");
  // A port nobody listens on any more.
  const closed = createServer().listen(0, "127.0.0.1");
  await once(closed, "listening");
  const port = (closed.address() as AddressInfo).port;
  await new Promise((done) => closed.close(done));
  assert.equal(await fails(1, ["sign", "stripe", "--secret", "s", "--body", file, "--send", `http://127.0.0.1:${port}/hook`]),
    `knocker: could not send to http://127.0.0.1:${port}/hook: ECONNREFUSED`);
});

test("sign … --send to webhooks.nodeHandler(): a stored, valid, handled event for stripe, github and standard-webhooks", async () => {
  const db = new Database(tempDbPath()); // the app's connection, with its own table beside the inbox
  const webhooks = open(db);
  db.exec("CREATE TABLE seen (event_id INTEGER PRIMARY KEY, endpoint TEXT, event_type TEXT)");
  const record = (event: { id: number; endpoint: string; eventType: string | null }, tx: { run(sql: string, params: unknown[]): unknown }) =>
    void tx.run("INSERT INTO seen VALUES (?, ?, ?)", [event.id, event.endpoint, event.eventType]);
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_send"] }).handle(record);
  webhooks.endpoint("github", { path: "/webhooks/github", provider: "github", secrets: ["gh-send"] }).handle(record);
  webhooks.endpoint("standard-webhooks", { path: "/webhooks/standard-webhooks", provider: "standard-webhooks", secrets: [standardSecret] }).handle(record);
  const server = createServer(webhooks.nodeHandler()).listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = new AbortController();
  const worker = webhooks.runWorker({ signal: stop.signal });
  try {
    const sends: Array<{ endpoint: string; args: string[]; body: string; type: string }> = [
      { endpoint: "stripe", args: ["--secret", "whsec_send"], body: '{"id":"evt_send","object":"event","type":"checkout.session.completed"}', type: "checkout.session.completed" },
      { endpoint: "github", args: ["--secret", "gh-send", "--header", "X-GitHub-Event=push"], body: '{"ref":"refs/heads/main","commits":[]}', type: "push" },
      { endpoint: "standard-webhooks", args: ["--secret", standardSecret], body: '{"type":"user.created","data":{"email":"ada@example.com"}}', type: "user.created" },
    ];
    for (const send of sends) {
      const url = `${base}/webhooks/${send.endpoint}`;
      const stdout = await ok(["sign", send.endpoint, ...send.args, "--body", bodyFile(`send-${send.endpoint}`, send.body), "--send", url]);
      assert.match(stdout, new RegExp(`^POST ${url}\nContent-Type: application/json\n[\\s\\S]*\n\nHTTP 204 No Content\n$`));

      const delivery = (await webhooks.listDeliveries({ endpoint: send.endpoint, limit: 1 }))[0]!;
      assert.equal(delivery.signatureValid, true);
      assert.equal(delivery.body.toString(), send.body);
      const deadline = Date.now() + 10_000;
      while ((await webhooks.getEvent(delivery.eventId!))!.status !== "handled" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const event = (await webhooks.getEvent(delivery.eventId!))!;
      assert.deepEqual([event.status, event.eventType], ["handled", send.type]);
      assert.deepEqual(db.prepare("SELECT endpoint, event_type FROM seen WHERE event_id = ?").get(event.id), { endpoint: send.endpoint, event_type: send.type });
    }

    const json = await okJson<SignJson>(["sign", "stripe", "--secret", "whsec_send", "--body", bodyFile("send-json", '{"id":"evt_send_2","type":"x"}'), "--send", `${base}/webhooks/stripe`]);
    assert.deepEqual(json.response, { status: 204, statusText: "No Content", body: "" });

    // The wrong secret: the receiver answers 401, the CLI prints it and exits 1.
    const refused = await knocker(["sign", "github", "--secret", "not-gh-send", "--header", "X-GitHub-Event=push", "--body", bodyFile("send-bad", "{}"), "--send", `${base}/webhooks/github`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /\n\nHTTP 401 Unauthorized\n$/);
    assert.equal(refused.stderr, `knocker: ${base}/webhooks/github answered 401 Unauthorized\n`);
    assert.equal((await webhooks.listDeliveries({ endpoint: "github", limit: 1 }))[0]!.signatureError, "github signature mismatch");
  } finally {
    stop.abort();
    await worker;
    server.close();
    await webhooks.close();
    db.close();
  }
});

test("sign twilio --send adds the bodySHA256 query it signed to the URL it calls", async () => {
  const webhooks = open(tempDbPath());
  const server = createServer(webhooks.nodeHandler()).listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/twilio`;
  webhooks.endpoint("twilio", { path: "/webhooks/twilio", provider: "twilio", secrets: ["tw-token"], providerOptions: { url } });
  try {
    const body = '{"EventType":"com.twilio.voice.status"}';
    const stdout = await ok(["sign", "twilio", "--secret", "tw-token", "--body", bodyFile("twilio-send", body), "--send", url]);
    assert.match(stdout, new RegExp(`^POST ${url}\\?bodySHA256=[0-9a-f]{64}\n`));
    assert.match(stdout, /\nHTTP 204 No Content\n$/);
    const delivery = (await webhooks.listDeliveries({ limit: 1 }))[0]!;
    assert.deepEqual([delivery.signatureValid, delivery.eventType, Object.keys(delivery.query)], [true, "com.twilio.voice.status", ["bodySHA256"]]);
  } finally {
    server.close();
    await webhooks.close();
  }
});

test("sign --send failures (docs/cli.md): exit 1, warnings and the public key stay above the one error line", async () => {
  const file = bodyFile("send-fail", '{"id":"evt_fail","type":"x"}');
  const server = createServer((_request, response) => response.writeHead(401).end("no")).listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    // Every refusal without warnings is the usual single line.
    const plain = await knocker(["sign", "stripe", "--secret", "s", "--body", file, "--send", url]);
    assert.deepEqual([plain.code, plain.stderr], [1, `knocker: ${url} answered 401 Unauthorized\n`]);
    assert.match(plain.stdout, /^POST .*\n[\s\S]*\n\nHTTP 401 Unauthorized\nno\n$/);

    const keyed = await knocker(["sign", "discord", "--secret-file", pem.ed25519, "--body", file, "--send", url]);
    assert.equal(keyed.code, 1);
    assert.match(keyed.stderr, new RegExp(`^knocker: configure the endpoint with this public key as its secret: [0-9a-f]{64}\nknocker: ${url} answered 401 Unauthorized\n$`));
    const keyedJson = await knocker(["sign", "discord", "--secret-file", pem.ed25519, "--body", file, "--send", url, "--json"]);
    assert.deepEqual([keyedJson.code, keyedJson.stderr], [1, `knocker: ${url} answered 401 Unauthorized\n`]);
    assert.match((JSON.parse(keyedJson.stdout) as SignJson).verificationKey!, /^[0-9a-f]{64}$/);
  } finally {
    server.close();
  }

  // Nothing listens any more: no connection, nothing on stdout; the warning, then the error line.
  const refused = await knocker(["sign", "linear", "--secret", "s", "--body", file, "--send", url]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  const lines = refused.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, refused.stderr);
  assert.match(lines[0]!, /^knocker: warning: linear checks the body's webhookTimestamp/);
  assert.equal(lines[1], `knocker: could not send to ${url}: ECONNREFUSED`);
});
