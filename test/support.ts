import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];

/** A fresh directory, removed when the test process exits (connections are closed by then). */
export function tempDir(prefix = "knocker-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (dirs.length === 0) process.on("exit", () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  dirs.push(dir);
  return dir;
}

/**
 * A documentation example as the source of a file that runs from a temp directory: "knocker" is
 * this repository's source entry, "better-sqlite3" (an example that opens the app's own
 * connection) is the package that entry uses, so the example has one copy of SQLite, and
 * "@opentelemetry/…" are this repository's dev dependencies.
 */
export function runnableExample(code: string): string {
  return code
    .replaceAll('from "knocker"', `from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)}`)
    .replaceAll('from "better-sqlite3"', `from ${JSON.stringify(import.meta.resolve("better-sqlite3"))}`)
    // OpenTelemetry's packages (the telemetry examples), as an app that installed them resolves them.
    .replace(/from "(@opentelemetry\/[a-z-]+)"/g, (_, name: string) => `from ${JSON.stringify(import.meta.resolve(name))}`);
}

/** What a docs example says it prints: the `// …` comment of each `console.log(…)` line, in order. */
export function expectedPrints(code: string): string[] {
  return code
    .split("\n")
    .filter((line) => /^\s*console\.log\(.*\/\/ /.test(line))
    .map((line) => line.slice(line.lastIndexOf("// ") + 3).trim());
}

/** The non-empty lines a run printed, trimmed (to compare with expectedPrints). */
export function printedLines(stdout: string): string[] {
  return stdout.trim().split("\n").filter(Boolean).map((line) => line.trim());
}

/** A path for a new SQLite file on disk. */
export function tempDbPath(name = "knocker.db"): string {
  return join(tempDir(), name);
}

/** A Stripe-Signature header for `body`, made the way Stripe documents it. */
export function stripeSignature(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${digest}`;
}

/** Run a worker until `until()` holds (or `timeoutMs` passes), then stop it. */
export async function drain(
  webhooks: { runWorker(options: { signal: AbortSignal; onError?: (e: unknown) => void }): Promise<void> },
  until: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, onError }: { timeoutMs?: number; onError?: (e: unknown) => void } = {},
): Promise<void> {
  const controller = new AbortController();
  const running = webhooks.runWorker({ signal: controller.signal, onError });
  const started = Date.now();
  while (!(await until()) && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await running;
}
