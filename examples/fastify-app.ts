// A minimal Fastify app with a Knocker inbox: `npx tsx examples/fastify-app.ts`.
// Knocker verifies signatures over the raw bytes, so it reads the request stream itself: the
// webhook routes live in their own plugin scope, whose only content-type parser leaves the stream
// untouched, and hand the raw Node request and response to webhooks.nodeHandler().
import { pathToFileURL } from "node:url";
import Fastify from "fastify";
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

  const app = Fastify();
  const knocker = webhooks.nodeHandler();
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers(); // in this scope only: the app's other routes keep theirs
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null)); // leave the raw body to Knocker
    scope.all("/webhooks/*", (request, reply) => {
      reply.hijack(); // Knocker writes the answer itself
      return knocker(request.raw, reply.raw);
    });
  });
  app.get("/health", async () => ({ ok: true }));
  return { app, webhooks };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { app, webhooks } = createApp(process.env.KNOCKER_DB ?? "knocker.db", process.env.STRIPE_WEBHOOK_SECRET ?? "whsec_example");
  const stop = new AbortController();
  const worker = webhooks.runWorker({ signal: stop.signal });
  const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
  console.log(`listening on ${url}`);
  process.once("SIGINT", () => {
    stop.abort();
    void app.close().then(() => worker).then(() => webhooks.close());
  });
}
