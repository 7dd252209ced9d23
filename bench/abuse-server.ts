// The server of bench/abuse.bench.ts, in a process of its own: the built package on node:http,
// one Stripe endpoint, default limits. Prints its port on stdout.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "knocker";

const webhooks = open(join(mkdtempSync(join(tmpdir(), "knocker-abuse-bench-")), "inbox.db"));
webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [process.argv[2]!] });
const handler = webhooks.nodeHandler();
const server = createServer((req, res) => void handler(req, res));
server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
process.stdin.on("close", async () => {
  server.close();
  await webhooks.close();
  process.exit(0);
});
process.stdin.resume();
