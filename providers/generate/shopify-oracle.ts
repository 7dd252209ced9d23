// The @shopify/shopify-api@13.1.0 oracle shared by the shopify generator and test: its test
// helper getHmac() signs, and shopify.webhooks.validate() (node adapter) verifies.
import "@shopify/shopify-api/adapters/node";
import { ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { getHmac } from "@shopify/shopify-api/test-helpers";

export { getHmac as shopifySign };

/** True when shopify-api's webhooks.validate() accepts this receipt for an app with `secret`. */
export async function shopifyValidates(secret: string, body: string | Buffer, headers: Record<string, string>): Promise<boolean> {
  const shopify = shopifyApi({
    apiKey: "knocker-test-app",
    apiSecretKey: secret,
    scopes: ["read_orders"],
    hostName: "hooks.example.com",
    apiVersion: ApiVersion.October24,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
  const rawRequest = { headers, method: "POST", url: "/webhooks/shopify" };
  // rawRequest/rawResponse are adapter-specific (node: IncomingMessage/ServerResponse); validate only reads headers, method and url.
  const result = await shopify.webhooks.validate({ rawBody: body.toString(), rawRequest: rawRequest as never, rawResponse: {} as never });
  return result.valid;
}
