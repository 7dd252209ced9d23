// A reference for bench/http.bench.ts: the Stripe route a team would write by hand to store what
// Knocker's contract stores — check the signature, look the event id up, write the event, its
// delivery and its job into Knocker's own tables, group-commit with synchronous=FULL, then 204.
// No provider registry, no options, no observer, no fallbacks: what is left is the contract's
// own work, so its throughput says how much of the gap to the bare server that work explains.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { RequestListener } from "node:http";
import Database from "better-sqlite3";
import { open } from "knocker";

const TOLERANCE_S = 300;

interface Pending {
  eventId: string | null;
  eventType: string | null;
  headers: string;
  body: Buffer;
  now: number;
  answer: () => void;
}

/** The route, how many events it has stored, and a function that closes its database. */
export async function handWrittenStripeRoute(
  path: string,
  secret: string,
): Promise<{ route: RequestListener; storedEvents: () => number; close: () => void }> {
  const setup = open(path); // creates Knocker's tables and the endpoint row the rows point to
  setup.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [secret] });
  await setup.close();

  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("temp_store = MEMORY");
  const endpointId = (db.prepare("SELECT id FROM knocker_endpoints WHERE name = 'stripe'").pluck().get() as number);
  const find = db.prepare("SELECT id FROM knocker_events WHERE endpoint_id = ? AND dedupe_key = ?").pluck();
  const insertEvent = db.prepare(`INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, event_type, method,
    headers_json, body_blob, query_json, dedupe_key, status, attempt_count) VALUES (?, ?, ?, ?, 'POST', ?, ?, '{}', ?, 'received', 0)`);
  const insertDelivery = db.prepare(`INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, event_type,
    method, headers_json, body_blob, query_json, signature_valid, dedupe_key) VALUES (?, ?, ?, ?, ?, 'POST', ?, ?, '{}', 1, ?)`);
  const insertJob = db.prepare(`INSERT INTO _honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
    VALUES ('knocker.events', ?, 'pending', 0, ?, 0, 3, ?)`);
  const store = db.transaction((batch: Pending[]) => {
    for (const r of batch) {
      let id = r.eventId === null ? undefined : (find.get(endpointId, r.eventId) as number | undefined);
      if (id === undefined) {
        id = Number(insertEvent.run(endpointId, r.now, r.eventId, r.eventType, r.headers, r.body, r.eventId).lastInsertRowid);
        insertJob.run(`{"event_id":${id}}`, r.now, r.now);
      }
      insertDelivery.run(endpointId, id, r.now, r.eventId, r.eventType, r.headers, r.body, r.eventId);
    }
  });

  const submit = groupCommitted<Pending>((batch) => store.immediate(batch));
  const route: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const now = Math.floor(Date.now() / 1000);
      if (!validSignature(String(req.headers["stripe-signature"] ?? ""), body, secret, now)) {
        res.statusCode = 401;
        res.end();
        return;
      }
      let parsed: { id?: unknown; type?: unknown } = {};
      try {
        parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
      } catch {
        // stored without an identity, like any receipt whose body is not JSON
      }
      submit({
        eventId: typeof parsed.id === "string" ? parsed.id : null,
        eventType: typeof parsed.type === "string" ? parsed.type : null,
        headers: JSON.stringify(req.headers),
        body,
        now,
        answer: () => {
          res.statusCode = 204;
          res.end();
        },
      });
    });
  };
  const storedEvents = () => db.prepare("SELECT count(*) FROM knocker_events").pluck().get() as number;
  return { route, storedEvents, close: () => db.close() };
}

function validSignature(header: string, body: Buffer, secret: string, now: number): boolean {
  let timestamp = "";
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    if (part.startsWith("t=")) timestamp = part.slice(2);
    else if (part.startsWith("v1=")) signatures.push(Buffer.from(part.slice(3), "hex"));
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > TOLERANCE_S) return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  return signatures.some((signature) => signature.length === expected.length && timingSafeEqual(signature, expected));
}

/**
 * Group commit the way a hand-written route does it: receipts arriving in one turn of the event
 * loop are committed together on the next, then each is answered.
 */
export function groupCommitted<T extends { answer: () => void }>(commit: (batch: T[]) => void): (receipt: T) => void {
  let waiting: T[] = [];
  return (receipt) => {
    waiting.push(receipt);
    if (waiting.length > 1) return;
    setImmediate(() => {
      const batch = waiting;
      waiting = [];
      commit(batch);
      for (const each of batch) each.answer();
    });
  };
}
