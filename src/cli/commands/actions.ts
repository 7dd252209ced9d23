import { KnockerError } from "../../errors.js";
import type { EventStatus, PruneEventsResult } from "../../interfaces.js";
import { ACCEPTS } from "../../operator/operator.js";
import {
  parseAgo, parseId, parseInteger, parseSince, parseStatus, Refusal, stringOption, UsageError, type OptionSpecs,
} from "../args.js";
import { engineOf } from "../../store/engine-of.js";
import type { EventSelection } from "../../store/store.js";
import type { Command, Context } from "../command.js";
import { plural, safe, time } from "../format.js";
import { confirm, ProgressBar } from "../terminal.js";

type EventAction = "replay" | "requeue" | "ignore";

const DONE: Record<EventAction, string> = { replay: "replayed", requeue: "requeued", ignore: "ignored" };
const AFTER: Record<EventAction, { one: string; many: string }> = {
  replay: { one: "the app's worker runs it again", many: "the app's worker runs them again" },
  requeue: { one: "the app's worker runs it again", many: "the app's worker runs them again" },
  ignore: { one: "its handler will not run", many: "their handlers will not run" },
};

/** Refusal reasons printed one per line by a bulk run; --json lists every one. */
const MAX_REASONS = 10;

const BULK_OPTIONS: OptionSpecs = {
  status: { type: "string", value: "STATUS", description: "bulk: select the events with this status" },
  endpoint: { type: "string", value: "NAME", description: "bulk: select the events of this endpoint" },
  type: { type: "string", value: "TYPE", description: "bulk: select the events of this type" },
  since: { type: "string", value: "WHEN", description: "bulk: only events received since (36h, 7d, a unix time, an ISO date)" },
  limit: { type: "string", value: "N", description: "bulk: at most N events, oldest first" },
  yes: { type: "boolean", short: "y", description: "bulk: do not ask for confirmation" },
};

function eventActionCommand(action: EventAction, summary: string): Command {
  const accepts: readonly EventStatus[] = ACCEPTS[action];
  return {
    name: action,
    summary,
    usage: "<id> | [--status S] [--endpoint E] [--type T] [--since WHEN] [--limit N] [--yes]",
    details:
      `${action} accepts events whose status is ${accepts.join(", ")}${action === "ignore" ? " (ignoring an ignored event changes nothing)" : ""}.\n` +
      "With selection options instead of an id (at least one of --status, --endpoint, --type), every\n" +
      "matching event is changed, oldest first, after a confirmation prompt (skip it with --yes); a\n" +
      "progress bar is drawn on stderr when it is a terminal.\n" +
      `Example: knocker ${action} --status dead --endpoint stripe --yes`,
    options: BULK_OPTIONS,
    positionals: ["id"],
    optionalPositionals: 1,
    run: (context) => (context.positionals.length === 1 ? runOne(context, action) : runBulk(context, action, accepts)),
  };
}

async function apply(context: Context, action: EventAction, id: number) {
  return (await context.knocker())[action](id);
}

async function runOne(context: Context, action: EventAction): Promise<number> {
  const selection = ["status", "endpoint", "type", "since", "limit"].filter((name) => context.values[name] !== undefined);
  if (selection.length > 0) throw new UsageError(`give an event id or --${selection[0]}, not both`);
  const id = parseId(context.positionals[0]!, "event id");
  const before = await (await context.knocker()).getEvent(id);
  if (before === null) throw new Refusal(`no event with id ${id}`);
  const after = await apply(context, action, id);
  const changed = before.status !== after.status;
  if (context.json) {
    context.printJson({ action, id, from: before.status, to: after.status, changed });
  } else if (!changed) {
    context.out(`event ${id} is already ${after.status}; nothing changed\n`);
  } else {
    context.out(`${DONE[action]} event ${id} (${safe(after.endpoint)}): ${before.status} → ${after.status}; ${AFTER[action].one}\n`);
  }
  return 0;
}

async function runBulk(context: Context, action: EventAction, accepts: readonly EventStatus[]): Promise<number> {
  const { values } = context;
  const status = stringOption(values, "status");
  const limit = stringOption(values, "limit");
  const since = stringOption(values, "since");
  const selection: EventSelection = {
    status: status === undefined ? undefined : parseStatus(status),
    endpoint: stringOption(values, "endpoint"),
    eventType: stringOption(values, "type"),
    since: since === undefined ? undefined : parseSince(since, context.now()),
    limit: limit === undefined ? undefined : parseInteger(limit, "limit", 1, Number.MAX_SAFE_INTEGER),
  };
  if (selection.status === undefined && selection.endpoint === undefined && selection.eventType === undefined) {
    throw new UsageError(`${action} needs an event id, or --status, --endpoint or --type to select events in bulk`);
  }
  if (selection.status !== undefined && !accepts.includes(selection.status)) {
    throw new Refusal(`${action} accepts events whose status is ${accepts.join(", ")}; --status ${selection.status} selects none it can change`);
  }

  const knocker = await context.knocker();
  const ids = await engineOf(knocker).cli.eventIds(selection);
  if (ids.length === 0) {
    if (context.json) context.printJson({ action, matched: 0, changed: [], refused: [] });
    else context.out("No events match; nothing changed.\n");
    return 0;
  }
  if (values.yes !== true) {
    const what = [
      selection.status && `status ${selection.status}`, selection.endpoint && `endpoint ${selection.endpoint}`,
      selection.eventType && `type ${selection.eventType}`, since && `received since ${time(selection.since!)} UTC`,
    ].filter(Boolean).join(", ");
    const verb = action[0]!.toUpperCase() + action.slice(1);
    if (!(await confirm(`${verb} ${plural(ids.length, "event")} (${what})? [y/N] `))) throw new Refusal("cancelled: nothing changed");
  }

  const changed: number[] = [];
  const refused: Array<{ id: number; reason: string }> = [];
  const progress = new ProgressBar(action, ids.length);
  for (const id of ids) {
    try {
      await apply(context, action, id);
      changed.push(id);
    } catch (error) {
      // A state that changed since the snapshot (a worker handled it, someone pruned it) refuses
      // that one event; a storage failure stops the run.
      if (!(error instanceof KnockerError) || !["ERR_INVALID_STATE", "ERR_UNKNOWN_EVENT"].includes(error.code)) {
        progress.finish();
        throw new Refusal(`${action} stopped after ${changed.length} of ${plural(ids.length, "event")}: ${(error as Error).message}`);
      }
      refused.push({ id, reason: error.message });
    }
    progress.tick();
  }
  progress.finish();

  if (context.json) {
    context.printJson({ action, matched: ids.length, changed, refused });
    if (refused.length > 0) context.err(`knocker: ${refused.length} of ${plural(ids.length, "event")} refused (see "refused")\n`);
  } else {
    const count = refused.length === 0 ? plural(changed.length, "event") : `${changed.length} of ${plural(ids.length, "event")}`;
    context.out(`${DONE[action]} ${count}${changed.length === 0 ? "" : `; ${changed.length === 1 ? AFTER[action].one : AFTER[action].many}`}\n`);
    for (const { reason } of refused.slice(0, MAX_REASONS)) context.err(`knocker: refused: ${reason}\n`);
    if (refused.length > MAX_REASONS) context.err(`knocker: … and ${refused.length - MAX_REASONS} more refused (--json lists them all)\n`);
  }
  return refused.length > 0 ? 1 : 0;
}

export const replayCommand = eventActionCommand("replay", "Run handled, failed, dead or ignored events again (one id, or in bulk).");
export const requeueCommand = eventActionCommand("requeue", "Put failed, dead or ignored events back in the queue (one id, or in bulk).");
export const ignoreCommand = eventActionCommand("ignore", "Mark received, failed or dead events as ignored (one id, or in bulk).");

export const replayDeliveryCommand: Command = {
  name: "replay-delivery",
  summary: "Run a delivery's event again with that delivery's body, headers and type.",
  usage: "<id> [options]",
  options: {},
  positionals: ["id"],
  async run(context) {
    const id = parseId(context.positionals[0]!, "delivery id");
    const knocker = await context.knocker();
    const delivery = await knocker.getDelivery(id);
    if (delivery === null) throw new Refusal(`no delivery with id ${id}`);
    const before = delivery.eventId === null ? null : await knocker.getEvent(delivery.eventId);
    const after = await knocker.replayDelivery(id);
    if (context.json) {
      context.printJson({ action: "replay-delivery", deliveryId: id, eventId: after.id, from: before?.status ?? null, to: after.status });
    } else {
      context.out(
        `replayed delivery ${id} of event ${after.id} (${safe(after.endpoint)}): ${before?.status ?? "?"} → ${after.status}; ` +
          `the app's worker runs it with this delivery's payload\n`,
      );
    }
    return 0;
  },
};

export const pruneCommand: Command = {
  name: "prune",
  summary: "Delete old handled/ignored events (with their rows) or old orphan deliveries; writes an audit row.",
  usage: "events|orphans --older-than DURATION [--limit N] [--status handled|ignored] [--yes]",
  details:
    "events:  handled and ignored events received before now - DURATION, oldest first, with their\n" +
    "         deliveries, attempts and live jobs (events in any other status are never pruned).\n" +
    "orphans: deliveries without an event (rejected signatures, handshakes) received before now - DURATION.\n" +
    "One call removes at most --limit rows in one transaction; run it again to continue. It counts\n" +
    "what it would remove and asks for confirmation first (skip it with --yes, as a scheduled job\n" +
    "must); with nothing to remove it says so and changes nothing.\n" +
    "Example: knocker prune events --older-than 30d --limit 1000 --yes",
  options: {
    "older-than": { type: "string", value: "DURATION", description: "required: 90s, 30m, 36h, 7d, 2w (units combine: 1d12h)" },
    limit: { type: "string", value: "N", description: "at most N events or deliveries, 1 to 1000 (default 100)" },
    status: { type: "string", value: "STATUS", description: "events only: handled, ignored or handled,ignored (default both)" },
    yes: { type: "boolean", short: "y", description: "do not ask for confirmation" },
  },
  positionals: ["events|orphans"],
  async run(context) {
    const what = context.positionals[0]!;
    if (what !== "events" && what !== "orphans") throw new UsageError(`prune takes events or orphans, got ${JSON.stringify(what)}`);
    const olderThanText = stringOption(context.values, "older-than");
    if (olderThanText === undefined) throw new UsageError("prune needs --older-than DURATION (e.g. 7d)");
    const olderThan = parseAgo(olderThanText, "older-than", context.now());
    const limitText = stringOption(context.values, "limit");
    const limit = limitText === undefined ? 100 : parseInteger(limitText, "limit", 1, 1000);
    const statusText = stringOption(context.values, "status");
    if (what === "orphans" && statusText !== undefined) throw new UsageError("--status applies to prune events only");
    const statuses = statusText === undefined ? (["handled", "ignored"] as const) : parsePrunableStatuses(statusText);
    const knocker = await context.knocker();
    const before = `received before ${time(olderThan)} UTC`;
    const rows = what === "events" ? `events (${statuses.join("/")})` : "orphan deliveries";

    // Like a bulk action: count first, then ask. The prune removes no more than was confirmed.
    let confirmed = limit;
    if (context.values.yes !== true) {
      const count = await engineOf(knocker).cli.countPrunable(what === "events" ? { statuses, olderThan, limit } : { olderThan, limit });
      if (count === 0) {
        if (context.json) context.printJson(what === "events" ? { kind: "events", olderThan, limit, statuses, eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0 } : { kind: "orphans", olderThan, limit, deliveriesPruned: 0 });
        else context.out(`No ${rows} ${before}; nothing pruned.\n`);
        return 0;
      }
      const subject = what === "events"
        ? `${plural(count, "event")} (${statuses.join("/")}) ${before}, with their deliveries, attempts and live jobs`
        : `${plural(count, "orphan delivery", "orphan deliveries")} ${before}`;
      const capped = count === limit ? ` (the --limit of ${limit}; more may match)` : "";
      if (!(await confirm(`Prune ${subject}${capped}? [y/N] `))) throw new Refusal("cancelled: nothing pruned");
      confirmed = count;
    }

    if (what === "orphans") {
      const result = await knocker.pruneOrphanDeliveries({ olderThan, limit: confirmed });
      if (context.json) context.printJson({ kind: "orphans", olderThan, limit, ...result });
      else context.out(`pruned ${plural(result.deliveriesPruned, "orphan delivery", "orphan deliveries")} ${before}${more(result.deliveriesPruned, limit)}\n`);
      return 0;
    }
    const result: PruneEventsResult = await knocker.pruneEvents({ statuses, olderThan, limit: confirmed });
    if (context.json) {
      context.printJson({ kind: "events", olderThan, limit, statuses, ...result });
    } else {
      context.out(
        `pruned ${plural(result.eventsPruned, "event")} (${statuses.join("/")}) ${before}, with ` +
          `${plural(result.deliveriesPruned, "delivery", "deliveries")}, ${plural(result.attemptsPruned, "attempt")} ` +
          `and ${plural(result.liveJobsPruned, "live job")}${more(result.eventsPruned, limit)}\n`,
      );
    }
    return 0;
  },
};

function more(pruned: number, limit: number): string {
  return pruned === limit ? ` (the --limit; run it again for more)` : "";
}

function parsePrunableStatuses(text: string): Array<"handled" | "ignored"> {
  const statuses = [...new Set(text.split(",").map((s) => s.trim()))];
  if (statuses.length === 0 || !statuses.every((s) => s === "handled" || s === "ignored")) {
    throw new UsageError(`--status must be handled, ignored or handled,ignored (other events are never pruned), got ${JSON.stringify(text)}`);
  }
  return statuses as Array<"handled" | "ignored">;
}
