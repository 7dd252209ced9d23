// A minimal Hono app on Node with a Knocker inbox: `npx tsx examples/hono-app.ts`.
// webhooks.fetch() takes the untouched Web Request (c.req.raw): don't read the body before it.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pathToFileURL } from "node:url";
import { open } from "../src/index.js"; // in your app: from "knocker"

export function createApp(dbPath: string, githubSecret: string) {
  const webhooks = open(dbPath);
  webhooks
    .endpoint("github", { path: "/webhooks/github", provider: "github", secrets: [githubSecret] })
    .handle("push", (event, tx) => {
      const push = event.json<{ ref: string; after: string }>();
      tx.run("CREATE TABLE IF NOT EXISTS pushes (ref TEXT, sha TEXT, event_id INTEGER)");
      tx.run("INSERT INTO pushes VALUES (?, ?, ?)", [push.ref, push.after, event.id]);
    });

  const app = new Hono();
  app.all("/webhooks/*", (c) => webhooks.fetch(c.req.raw));
  app.get("/health", (c) => c.json({ ok: true }));
  return { app, webhooks };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { app, webhooks } = createApp(process.env.KNOCKER_DB ?? "knocker.db", process.env.GITHUB_WEBHOOK_SECRET ?? "example-secret");
  const stop = new AbortController();
  const worker = webhooks.runWorker({ signal: stop.signal });
  const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" }, (info) => {
    console.log(`listening on http://127.0.0.1:${info.port}`);
  });
  process.once("SIGINT", () => {
    server.close();
    stop.abort();
    void worker.then(() => webhooks.close());
  });
}
