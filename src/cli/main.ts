#!/usr/bin/env node
// The `knocker` bin: inspect, replay and prune a Knocker inbox, and sign test webhooks.
import { main, report } from "./cli.js";

const err = (text: string) => void process.stderr.write(text);

/** Anything that escapes main() is still one line on stderr (exit 1), never a stack trace. */
function crash(error: unknown): never {
  report(err, error, process.env);
  process.exit(1);
}
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

// A reader that went away (`knocker events | head`) ends the output, without a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") err(`knocker: cannot write the output: ${error.message}\n`);
  process.exit(error.code === "EPIPE" ? (process.exitCode ?? 0) : 1);
});

// No top-level await: nothing in dist is an async module, so even this file loads with require().
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, crash);
