// app/api/webhooks/[...path]/route.ts — a Next.js (App Router) route handler serving every
// Knocker endpoint under /api/webhooks/. Run the worker in its own process (or instrumentation.ts):
// `webhooks.runWorker()` on the same SQLite file picks the events up within milliseconds.
import { open, type Knocker } from "../../../../../../src/index.js"; // in your app: from "knocker"

export const runtime = "nodejs"; // better-sqlite3 needs Node.js, not the Edge runtime
export const dynamic = "force-dynamic";

// One inbox per process, also across dev-server module reloads.
const cache = globalThis as typeof globalThis & { knocker?: Knocker };
const webhooks = (cache.knocker ??= createInbox());

function createInbox(): Knocker {
  const inbox = open(process.env.KNOCKER_DB ?? "knocker.db");
  inbox.endpoint("stripe", {
    path: "/api/webhooks/stripe", provider: "stripe", secrets: [process.env.STRIPE_WEBHOOK_SECRET ?? ""],
  });
  inbox.endpoint("meta", {
    path: "/api/webhooks/meta", provider: "meta", secrets: [process.env.META_APP_SECRET ?? ""],
    providerOptions: { verifyToken: process.env.META_VERIFY_TOKEN },
  });
  return inbox;
}

export const POST = webhooks.fetch;
export const GET = webhooks.fetch; // Meta's subscription handshake is a GET; other endpoints answer 405
