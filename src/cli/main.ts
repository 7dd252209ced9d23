#!/usr/bin/env node
// The `knocker` bin: inspect, replay and prune a Knocker inbox, and sign test webhooks.
import { main } from "./cli.js";

// A reader that went away (`knocker events | head`) ends the output, without a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") process.stderr.write(`knocker: cannot write the output: ${error.message}\n`);
  process.exit(error.code === "EPIPE" ? (process.exitCode ?? 0) : 1);
});

process.exitCode = await main(process.argv.slice(2));
