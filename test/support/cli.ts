// The `knocker` bin as users run it: built once with `npm run build`, then spawned as
// `node dist/cli/main.js …` against real SQLite files.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { open } from "../../src/index.js";
import { drain, stripeSignature } from "../support.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** `npm run build` (the package's own build, as `npm ci` runs it through `prepare`). */
export function buildBin(): void {
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text written to stdin (then closed); stdin is empty otherwise. */
  stdin?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user and group (only root may). */
  uid?: number;
  gid?: number;
}

/** Run the built bin; resolves when it exited. KNOCKER_* variables of this process are not passed on. */
export function knocker(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("KNOCKER_")));
  const user = options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: { ...env, ...options.env }, ...user });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit 0 with nothing on stderr; returns stdout. */
export async function ok(args: readonly string[], options?: RunOptions): Promise<string> {
  const run = await knocker(args, options);
  assert.equal(run.code, 0, `knocker ${args.join(" ")} exited ${run.code}:\n${run.stderr}`);
  assert.equal(run.stderr, "", `knocker ${args.join(" ")} wrote to stderr`);
  return run.stdout;
}

/** `--json` output, parsed. */
export async function okJson<T = unknown>(args: readonly string[], options?: RunOptions): Promise<T> {
  return JSON.parse(await ok([...args, "--json"], options)) as T;
}

/**
 * A failure the CLI reports the documented way: the exit code, nothing on stdout, exactly one line
 * on stderr starting `knocker: `, and no stack trace. Returns that line.
 */
export async function fails(code: 1 | 2, args: readonly string[], options?: RunOptions): Promise<string> {
  const run = await knocker(args, options);
  assert.equal(run.code, code, `knocker ${args.join(" ")}: expected exit ${code}, got ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  assert.equal(run.stdout, "", `knocker ${args.join(" ")} wrote to stdout`);
  const lines = run.stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^knocker: \S/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "stack trace on stderr");
  return lines[0]!;
}

/** Data rows of a human table (the header line dropped), each split on runs of 2+ spaces. */
export function tableRows(text: string): string[][] {
  const lines = text.trimEnd().split("\n");
  return lines.slice(1).map((line) => line.trim().split(/ {2,}/));
}

// ---- a seeded inbox ------------------------------------------------------------------------------

export const STRIPE_SECRET = "whsec_cli_tests";
export const DAY = 86_400;

export interface SeededInbox {
  /** Events: received 10 days ago and handled; handled (with a duplicate delivery); dead; received (trusted endpoint, text body). */
  events: { oldHandled: number; handled: number; dead: number; received: number };
  /** Deliveries: an invalid orphan 10 days ago; the duplicate of `handled`; a recent invalid orphan; the first delivery of `handled`. */
  deliveries: { oldOrphan: number; duplicate: number; invalid: number; handled: number };
  now: number;
}

/**
 * A Knocker file with one event in each interesting state, written by a real Knocker (receive(),
 * a worker run) on two endpoints: `stripe` (provider stripe) and `orders` (trusted). Closed on return.
 */
export async function seedInbox(path: string): Promise<SeededInbox> {
  const now = Math.floor(Date.now() / 1000);
  let clock = now - 10 * DAY;
  const webhooks = open(path, { maxAttempts: 1, retryBackoff: false, now: () => clock });
  try {
    const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [STRIPE_SECRET] });
    const orders = webhooks.endpoint("orders", { path: "/orders" });
    stripe.handle("invoice.paid", () => {});
    stripe.handle("invoice.payment_failed", () => {
      throw new Error("card declined");
    });
    orders.handle(() => {});
    const signed = (id: string, type: string) => {
      const body = JSON.stringify({ id, object: "event", type, data: { object: { id: `in_${id}`, amount: 4200 } } });
      return { body, headers: { "content-type": "application/json", "stripe-signature": stripeSignature(body, STRIPE_SECRET, clock) } };
    };

    const oldHandled = (await stripe.receive(signed("evt_old", "invoice.paid"))).eventId!;
    const oldOrphan = (await stripe.receive({ body: "{}", headers: { "stripe-signature": `t=${clock},v1=00` } })).deliveryId;
    clock = now;
    const first = await stripe.receive(signed("evt_paid", "invoice.paid"));
    const duplicate = (await stripe.receive(signed("evt_paid", "invoice.paid"))).deliveryId!;
    const dead = (await stripe.receive(signed("evt_declined", "invoice.payment_failed"))).eventId!;
    await drain(webhooks, async () => ["handled", "dead"].includes((await webhooks.getEvent(dead))!.status) && (await webhooks.getEvent(first.eventId!))!.status === "handled");
    const received = (await orders.receive({ body: "order 7 shipped", eventType: "order.shipped", dedupeKey: "o7" })).eventId!;
    const invalid = (await stripe.receive({ body: "{}", headers: {} })).deliveryId!;
    return { events: { oldHandled, handled: first.eventId!, dead, received }, deliveries: { oldOrphan: oldOrphan!, duplicate, invalid, handled: first.deliveryId! }, now };
  } finally {
    await webhooks.close();
  }
}
