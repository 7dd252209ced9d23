import type { Delivery, Event, ListDeliveriesOptions, ListEventsOptions, PruneKind } from "../../interfaces.js";
import { parseId, parseInteger, parseSince, parseStatus, Refusal, stringOption, UsageError } from "../args.js";
import type { Command, Context } from "../command.js";
import {
  ATTEMPT_HEADERS, attemptRows, auditJson, cell, deliveryJson, eventJson, fields, renderBody, renderHeaders,
  safe, signatureLabel, table, time,
} from "../format.js";

const LIMIT = { type: "string", value: "N", description: "at most N rows, 1 to 1000 (default 50)" } as const;
const SINCE = { type: "string", value: "WHEN", description: "received since: a duration back (36h, 7d), a unix time or an ISO date" } as const;
const ENDPOINT = { type: "string", value: "NAME", description: "only this endpoint" } as const;

function limitOf(context: Context): number | undefined {
  const text = stringOption(context.values, "limit");
  return text === undefined ? undefined : parseInteger(text, "limit", 1, 1000);
}

function sinceOf(context: Context): number | undefined {
  const text = stringOption(context.values, "since");
  return text === undefined ? undefined : parseSince(text, context.now());
}

const EVENT_HEADERS = ["ID", "STATUS", "ENDPOINT", "TYPE", "ATTEMPTS", "RECEIVED (UTC)", "LAST ERROR"];
const eventRow = (e: Event) => [String(e.id), e.status, e.endpoint, cell(e.eventType, 40), String(e.attemptCount), time(e.receivedAt), cell(e.lastError)];

const DELIVERY_HEADERS = ["ID", "EVENT", "ENDPOINT", "TYPE", "SIGNATURE", "RECEIVED (UTC)", "ERROR"];
const deliveryRow = (d: Delivery) => [
  String(d.id), d.eventId === null ? "-" : String(d.eventId), d.endpoint, cell(d.eventType, 40), signatureLabel(d.signatureValid),
  time(d.receivedAt), cell(d.signatureError),
];

export const eventsCommand: Command = {
  name: "events",
  summary: "List events, newest first.",
  usage: "[options]",
  options: {
    status: { type: "string", value: "STATUS", description: "received, handled, failed, dead or ignored" },
    endpoint: ENDPOINT,
    type: { type: "string", value: "TYPE", description: "only this event type" },
    since: SINCE,
    limit: LIMIT,
  },
  positionals: [],
  async run(context) {
    const status = stringOption(context.values, "status");
    const filter: ListEventsOptions = {
      status: status === undefined ? undefined : parseStatus(status),
      endpoint: stringOption(context.values, "endpoint"),
      eventType: stringOption(context.values, "type"),
      since: sinceOf(context),
      limit: limitOf(context),
    };
    const events = await (await context.knocker()).listEvents(filter);
    if (context.json) context.printJson(events.map(eventJson));
    else context.out(events.length === 0 ? "No events match.\n" : table(EVENT_HEADERS, events.map(eventRow), ["ID", "ATTEMPTS"]));
    return 0;
  },
};

export const eventCommand: Command = {
  name: "event",
  summary: "Show one event with its deliveries, attempts and body.",
  usage: "<id> [options]",
  options: {},
  positionals: ["id"],
  async run(context) {
    const id = parseId(context.positionals[0]!, "event id");
    const knocker = await context.knocker();
    const event = await knocker.getEvent(id);
    if (event === null) throw new Refusal(`no event with id ${id}`);
    const deliveries = await knocker.listDeliveries({ eventId: id, limit: 1000 });
    const attempts = await knocker.listAttempts(id);
    if (context.json) {
      context.printJson({ ...eventJson(event), deliveries: deliveries.map(deliveryJson), attempts });
      return 0;
    }
    const parts = [
      `Event ${event.id} (${safe(event.endpoint)}): ${safe(event.status)}\n` +
        fields([
          ["type", event.eventType ?? "-"],
          ["provider event id", event.providerEventId ?? "-"],
          ["provider delivery id", event.providerDeliveryId ?? "-"],
          ["dedupe key", event.dedupeKey ?? "-"],
          ["attempts", String(event.attemptCount)],
          ["received", `${time(event.receivedAt)} UTC`],
          ["handled", event.handledAt === null ? "-" : `${time(event.handledAt)} UTC`],
          ["last error", event.lastError ?? "-"],
          ["request", `${event.method}${queryString(event.query)}`],
        ]),
      renderHeaders("Headers", event.headers),
      renderBody(event.body),
      `Deliveries (${deliveries.length})\n` + (deliveries.length === 0 ? "" : table(DELIVERY_HEADERS, deliveries.map(deliveryRow), ["ID", "EVENT"])),
      `Attempts (${attempts.length})\n` + (attempts.length === 0 ? "" : table(ATTEMPT_HEADERS, attemptRows(attempts), ["ID"])),
    ];
    context.out(parts.filter(Boolean).join("\n"));
    return 0;
  },
};

function queryString(query: Event["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  const text = params.toString();
  return text === "" ? "" : ` ?${text}`;
}

export const deliveriesCommand: Command = {
  name: "deliveries",
  summary: "List deliveries (every receipt, valid or not), newest first.",
  usage: "[options]",
  options: {
    event: { type: "string", value: "ID", description: "only the deliveries of this event" },
    endpoint: ENDPOINT,
    invalid: { type: "boolean", description: "only deliveries whose signature check failed" },
    valid: { type: "boolean", description: "only deliveries whose signature check passed" },
    orphaned: { type: "boolean", description: "only deliveries without an event (rejected, handshakes, disabled endpoints)" },
    linked: { type: "boolean", description: "only deliveries linked to an event" },
    since: SINCE,
    limit: LIMIT,
  },
  positionals: [],
  async run(context) {
    const { values } = context;
    if (values.invalid && values.valid) throw new UsageError("--invalid and --valid exclude each other");
    if (values.orphaned && values.linked) throw new UsageError("--orphaned and --linked exclude each other");
    const event = stringOption(values, "event");
    const filter: ListDeliveriesOptions = {
      eventId: event === undefined ? undefined : parseId(event, "--event"),
      endpoint: stringOption(values, "endpoint"),
      signatureValid: values.invalid ? false : values.valid ? true : undefined,
      orphaned: values.orphaned ? true : values.linked ? false : undefined,
      since: sinceOf(context),
      limit: limitOf(context),
    };
    const deliveries = await (await context.knocker()).listDeliveries(filter);
    if (context.json) context.printJson(deliveries.map(deliveryJson));
    else context.out(deliveries.length === 0 ? "No deliveries match.\n" : table(DELIVERY_HEADERS, deliveries.map(deliveryRow), ["ID", "EVENT"]));
    return 0;
  },
};

export const deliveryCommand: Command = {
  name: "delivery",
  summary: "Show one delivery: signature result, headers and body.",
  usage: "<id> [options]",
  options: {},
  positionals: ["id"],
  async run(context) {
    const id = parseId(context.positionals[0]!, "delivery id");
    const delivery = await (await context.knocker()).getDelivery(id);
    if (delivery === null) throw new Refusal(`no delivery with id ${id}`);
    if (context.json) {
      context.printJson(deliveryJson(delivery));
      return 0;
    }
    const signature = delivery.signatureValid === false ? `invalid: ${delivery.signatureError ?? "?"}` : signatureLabel(delivery.signatureValid);
    const parts = [
      `Delivery ${delivery.id} (${safe(delivery.endpoint)}): ${delivery.eventId === null ? "no event" : `event ${delivery.eventId}`}\n` +
        fields([
          ["signature", signature],
          ["type", delivery.eventType ?? "-"],
          ["provider event id", delivery.providerEventId ?? "-"],
          ["provider delivery id", delivery.providerDeliveryId ?? "-"],
          ["dedupe key", delivery.dedupeKey ?? "-"],
          ["received", `${time(delivery.receivedAt)} UTC`],
          ["request", `${delivery.method}${queryString(delivery.query)}`],
        ]),
      renderHeaders("Headers", delivery.headers),
      renderBody(delivery.body),
    ];
    context.out(parts.filter(Boolean).join("\n"));
    return 0;
  },
};

const KINDS: Record<string, PruneKind> = { events: "prune_events", orphans: "prune_orphan_deliveries" };

export const auditsCommand: Command = {
  name: "audits",
  summary: "List prune audit rows (manual prunes and retention runs), newest first.",
  usage: "[options]",
  options: {
    kind: { type: "string", value: "KIND", description: "events or orphans" },
    since: { type: "string", value: "WHEN", description: "executed since: a duration back (36h, 7d), a unix time or an ISO date" },
    limit: LIMIT,
  },
  positionals: [],
  async run(context) {
    const kindText = stringOption(context.values, "kind");
    const kind = kindText === undefined ? undefined : KINDS[kindText];
    if (kindText !== undefined && kind === undefined) throw new UsageError(`--kind must be events or orphans, got ${JSON.stringify(kindText)}`);
    const audits = await (await context.knocker()).listPruneAudits({ kind, since: sinceOf(context), limit: limitOf(context) });
    if (context.json) {
      context.printJson(audits.map(auditJson));
      return 0;
    }
    if (audits.length === 0) {
      context.out("No prune audits match.\n");
      return 0;
    }
    const rows = audits.map((a) => {
      const summary = JSON.parse(a.summaryJson) as { source?: string };
      return [
        String(a.id), a.kind === "prune_events" ? "events" : "orphans", time(a.executedAt), String(a.eventsPruned), String(a.deliveriesPruned),
        String(a.attemptsPruned), String(a.liveJobsPruned), summary.source ?? "-",
      ];
    });
    const headers = ["ID", "KIND", "EXECUTED (UTC)", "EVENTS", "DELIVERIES", "ATTEMPTS", "JOBS", "SOURCE"];
    context.out(table(headers, rows, ["ID", "EVENTS", "DELIVERIES", "ATTEMPTS", "JOBS"]));
    return 0;
  },
};

