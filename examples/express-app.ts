// A minimal Express app with a Knocker inbox: `npx tsx examples/express-app.ts`.
// Mount webhooks.nodeHandler() BEFORE express.json() (or any body parser): Knocker verifies
// signatures over the raw bytes, and refuses (ERR_BODY_PARSED) a body a parser already consumed.
import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import express from "express";
import { open } from "../src/index.js"; // in your app: from "knocker"

export function createApp(dbPath: string, stripeSecret: string) {
  const webhooks = open(dbPath);
  webhooks
    .endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [stripeSecret] })
    .handle("checkout.session.completed", (event, tx) => {
      const session = event.json<{ data: { object: { id: string } } }>().data.object;
      tx.run("CREATE TABLE IF NOT EXISTS paid_orders (session_id TEXT PRIMARY KEY, event_id INTEGER)");
      tx.run("INSERT INTO paid_orders VALUES (?, ?)", [session.id, event.id]);
    });

  const app = express();
  app.use(webhooks.nodeHandler()); // answers /webhooks/stripe itself, passes every other path on
  app.use(express.json());
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  return { app, webhooks };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { app, webhooks } = createApp(process.env.KNOCKER_DB ?? "knocker.db", process.env.STRIPE_WEBHOOK_SECRET ?? "whsec_example");
  const stop = new AbortController();
  const worker = webhooks.runWorker({ signal: stop.signal });
  const server: Server = app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  process.once("SIGINT", () => {
    server.close();
    stop.abort();
    void worker.then(() => webhooks.close());
  });
}
