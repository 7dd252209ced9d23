// The @paddle/paddle-node-sdk oracle shared by the paddle generator and test. The SDK only
// verifies (Webhooks.isSignatureValid) and reads the real clock with `new Date()`, which cannot be
// pinned, so oracle checks sign with the current time.
import { createHmac } from "node:crypto";
import { Paddle } from "@paddle/paddle-node-sdk";

// The node entry installs its crypto runtime when a Paddle client is constructed.
const paddle = new Paddle("pdl_sdbx_apikey_knocker_oracle_only");

/** A Paddle-Signature header made with node:crypto following Paddle's published algorithm. */
export function paddleSignature(body: string | Buffer, secret: string, timestamp: number, extraH1: string[] = []): string {
  const h1 = createHmac("sha256", secret).update(`${timestamp}:`).update(body).digest("hex");
  return [`ts=${timestamp}`, ...extraH1.map((value) => `h1=${value}`), `h1=${h1}`].join(";");
}

/** True when the SDK's isSignatureValid() accepts the header (its clock: now). */
export function paddleAccepts(body: string | Buffer, secret: string, header: string): Promise<boolean> {
  return paddle.webhooks.isSignatureValid(body.toString(), secret, header);
}

export const wallClock = (): number => Math.floor(Date.now() / 1000);
