// A custom provider's thrown text is scrubbed of its secrets in every form they commonly take:
// as is and in any letter case, JSON-escaped, hex (lower/upper), base64 (padded or not) and
// base64url of the UTF-8 bytes. Through the public API: the stored signature_error of the
// delivery and registration errors.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KnockerError, open, Provider, ProviderResult, type ProviderRequest, type VerifyContext } from "../src/index.js";
import { engineMatrix } from "./support/engines.js";

const engines = engineMatrix();

const SECRET = 'Sk_Live"Rot\\ätion-42ß';
const OTHER = "Sk_Live-next-rotation-secret";

function forms(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, "utf8");
  const json = JSON.stringify(secret).slice(1, -1);
  const swapped = [...secret].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
  return {
    literal: secret,
    upper: secret.toUpperCase(),
    lower: secret.toLowerCase(),
    swapped,
    json,
    jsonUpper: json.toUpperCase(),
    jsonAscii: json.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    hex: bytes.toString("hex"),
    hexUpper: bytes.toString("hex").toUpperCase(),
    base64: bytes.toString("base64"),
    base64Unpadded: bytes.toString("base64").replace(/=+$/, ""),
    base64url: bytes.toString("base64url"),
  };
}

/** Throws (or rejects) with the message the body carries: the test's stand-in for a leaky provider. */
class LeakyProvider extends Provider {
  readonly name = "leaky";
  readonly version = "1.0.0";
  verify(request: ProviderRequest, _context: VerifyContext): ProviderResult | Promise<ProviderResult> {
    const { message, async } = request.json<{ message: string; async?: boolean }>();
    if (async) return Promise.reject(new Error(message));
    throw new Error(message);
  }
}

function assertClean(text: string, secret: string, what: string): void {
  const hay = text.toLowerCase();
  for (const [name, form] of Object.entries(forms(secret))) {
    assert.ok(!text.includes(form) && !hay.includes(form.toLowerCase()), `${what}: the ${name} form ${JSON.stringify(form)} leaked into ${JSON.stringify(text)}`);
  }
}

for (const engine of engines) {
  describe(engine.name, () => {
    test("a custom provider's thrown message is stored with every form of every secret redacted", async () => {
      const webhooks = await engine.open();
      try {
        const leaky = webhooks.endpoint("leaky", { path: "/leaky", provider: new LeakyProvider(), secrets: [SECRET, OTHER] });
        const cases: Array<[string, string, boolean]> = [];
        for (const secret of [SECRET, OTHER]) {
          for (const [name, form] of Object.entries(forms(secret))) {
            cases.push([`${name} of ${secret}`, `bad key ${form} (expected another)`, false]);
            cases.push([`${name} of ${secret}, async`, `x=${form};`, true]);
          }
        }
        // Several forms in one message, glued to other text.
        const f = forms(SECRET);
        cases.push(["mixed", `k=${f.hex}|${f.base64url}|${f.upper}"${f.json}`, false]);

        for (const [what, message, async] of cases) {
          const result = await leaky.receive({ body: JSON.stringify({ message, async }), headers: {} });
          assert.equal(result.statusCode, 401, what);
          assert.equal(result.eventId, null, what);
          const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
          assert.equal(delivery.signatureValid, false, what);
          const stored = delivery.signatureError!;
          assert.match(stored, /^provider error: leaky verify\(\) failed: /, what);
          assert.match(stored, /\[redacted\]/, what);
          assertClean(stored, SECRET, what);
          assertClean(stored, OTHER, what);
        }

        // Nothing else is touched: text around the secret survives.
        const plain = await leaky.receive({ body: JSON.stringify({ message: `bad key ${SECRET} (expected another)` }), headers: {} });
        assert.equal((await webhooks.getDelivery(plain.deliveryId!))!.signatureError, "provider error: leaky verify() failed: bad key [redacted] (expected another)");
      } finally {
        await webhooks.close();
      }
    });

    test("registration errors of a custom provider redact the derived forms too", async () => {
      const webhooks = await engine.open();
      try {
        const f = forms(SECRET);
        const leakyOptions = new (class extends LeakyProvider {
          override readonly optionKeys = ["mode"];
          override validateOptions(): Record<string, unknown> {
            throw new Error(`mode needs ${f.base64} or ${f.hexUpper}`);
          }
        })();
        assert.throws(() => webhooks.endpoint("opts", { path: "/opts", provider: leakyOptions, secrets: [SECRET], providerOptions: { mode: 1 } }), (error: unknown) => {
          assert.ok(error instanceof KnockerError);
          assertClean(error.message, SECRET, "validateOptions");
          assert.match(error.message, /mode needs \[redacted\] or \[redacted\]/);
          return true;
        });
        const leakySecrets = new (class extends LeakyProvider {
          override validateSecrets(): void {
            throw new Error(`secret ${f.swapped} / ${f.jsonAscii} is malformed`);
          }
        })();
        assert.throws(() => webhooks.endpoint("secrets", { path: "/secrets", provider: leakySecrets, secrets: [SECRET] }), (error: unknown) => {
          assert.ok(error instanceof KnockerError);
          assertClean(error.message, SECRET, "validateSecrets");
          return true;
        });
      } finally {
        await webhooks.close();
      }
    });

    test("short secrets: the literal is always redacted, derived forms only from 4 characters", async () => {
      const webhooks = await engine.open();
      try {
        const ep = webhooks.endpoint("short", { path: "/short", provider: new LeakyProvider(), secrets: ["k1"] });
        const result = await ep.receive({ body: JSON.stringify({ message: "k1 K1 azE 6b31" }), headers: {} });
        // "K1" and base64 "azE" are under 4 characters: left alone; hex "6b31" has 4: redacted.
        assert.equal((await webhooks.getDelivery(result.deliveryId!))!.signatureError, "provider error: leaky verify() failed: [redacted] K1 azE [redacted]");
      } finally {
        await webhooks.close();
      }
    });
  });
}
