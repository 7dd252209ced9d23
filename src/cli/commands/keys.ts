import { parseInteger, stringOption, UsageError } from "../args.js";
import type { Command } from "../command.js";
import { cell, table } from "../format.js";

export const keysCommand: Command = {
  name: "keys",
  summary: "List ordering keys whose events wait behind an unsettled one (--blocked).",
  usage: "--blocked [options]",
  details: `Ordered endpoints (orderingKey) handle one event of a key at a time, in receipt order. A key is
blocked while its first unsettled event is received, running, or failed awaiting a retry, and
others wait behind it. Most waiting first. To release a key stuck behind a failing event:
knocker ignore <blocking event id> (or let it go dead).`,
  options: {
    blocked: { type: "boolean", description: "the keys with events waiting (required: the one listing of keys so far)" },
    endpoint: { type: "string", value: "NAME", description: "only this endpoint" },
    limit: { type: "string", value: "N", description: "at most N keys, 1 to 1000 (default 50)" },
  },
  positionals: [],
  async run(context) {
    if (context.values.blocked !== true) throw new UsageError("knocker keys lists the blocked keys: pass --blocked");
    const limit = stringOption(context.values, "limit");
    const keys = await (await context.knocker()).listBlockedKeys({
      endpoint: stringOption(context.values, "endpoint"),
      limit: limit === undefined ? undefined : parseInteger(limit, "limit", 1, 1000),
    });
    if (context.json) context.printJson(keys);
    else if (keys.length === 0) context.out("No key is blocked.\n");
    else {
      const rows = keys.map((k) => [k.endpoint, cell(k.key, 60), String(k.blockingEventId), k.blockingStatus, String(k.waiting)]);
      context.out(table(["ENDPOINT", "KEY", "BLOCKED BY", "STATUS", "WAITING"], rows, ["BLOCKED BY", "WAITING"]));
    }
    return 0;
  },
};
