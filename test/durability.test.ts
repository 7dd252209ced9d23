// CONTRACT §6: with durability "full" a receipt is acknowledged only once its commit is on disk.
// Group commits fsync the WAL on libuv's thread pool (src/storage/wal-sync.ts); these tests hold
// that pool to see the acknowledgement wait for the fsync, and check the premise that lets
// Knocker keep a descriptor on the -wal file.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, open as openAsync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { open, type Durability } from "../src/index.js";
import { stripeSignature, tempDbPath, tempDir } from "./support.js";

const SECRET = "whsec_durability";
const POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

function signed(id: string) {
  const body = JSON.stringify({ id, object: "event", type: "t" });
  return { body, headers: { "stripe-signature": stripeSignature(body, SECRET) } };
}

function inbox(durability: Durability) {
  const path = tempDbPath();
  const webhooks = open(path, { durability });
  const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  return { path, webhooks, stripe };
}

/**
 * Occupy every thread of libuv's pool: each opens a FIFO for reading, which blocks until a writer
 * opens it. Returns the function that lets them go.
 */
async function holdThreadPool(): Promise<() => void> {
  const dir = tempDir("knocker-pool-");
  const fifos = Array.from({ length: POOL_SIZE }, (_, i) => join(dir, `fifo${i}`));
  for (const fifo of fifos) execFileSync("mkfifo", [fifo]);
  const opened = fifos.map((fifo) => new Promise<number>((resolve, reject) => openAsync(fifo, "r", (error, fd) => (error ? reject(error) : resolve(fd)))));
  await new Promise((resolve) => setTimeout(resolve, 50)); // the pool's threads are now inside open()
  return () => {
    const writers = fifos.map((fifo) => openSync(fifo, "w"));
    void Promise.all(opened).then((fds) => [...fds, ...writers].forEach((fd) => closeSync(fd)));
  };
}

const settledWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

test('durability "full": the answer waits for the fsync, which runs off the event loop; the rows are committed before it', async () => {
  const { path, webhooks, stripe } = inbox("full");
  await stripe.receive(signed("evt_warm")); // the WAL file exists from here on
  const release = await holdThreadPool();
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const pending = stripe.receive(signed("evt_held"));
  assert.equal(await settledWithin(pending, 300), false, "acknowledged while its fsync could not run");
  clearInterval(ticker);
  assert.ok(ticks >= 10, `the event loop kept turning while the fsync waited (${ticks} ticks)`);
  const other = new Database(path, { readonly: true });
  assert.equal(other.prepare("SELECT COUNT(*) FROM knocker_events WHERE dedupe_key = 'evt_held'").pluck().get(), 1, "committed, only not yet acknowledged");
  other.close();
  release();
  const result = await pending;
  assert.equal(result.statusCode, 204);
  await webhooks.close();
});

test('durability "normal" does not wait for an fsync: the same held pool does not delay the answer', async () => {
  const { webhooks, stripe } = inbox("normal");
  await stripe.receive(signed("evt_warm"));
  const release = await holdThreadPool();
  try {
    assert.equal(await settledWithin(stripe.receive(signed("evt_free")), 300), true);
  } finally {
    release();
  }
  await webhooks.close();
});

test("close() makes receipts whose fsync is still waiting durable and settles them", async () => {
  const { path, webhooks, stripe } = inbox("full");
  await stripe.receive(signed("evt_warm"));
  const release = await holdThreadPool();
  try {
    const held = stripe.receive(signed("evt_at_close"));
    assert.equal(await settledWithin(held, 100), false);
    const unflushed = stripe.receive(signed("evt_unflushed")); // submitted, not yet committed
    await webhooks.close();
    const results = await Promise.all([held, unflushed]);
    assert.deepEqual(results.map((r) => r.statusCode), [204, 204]);
  } finally {
    release();
  }
  const reopened = new Database(path, { readonly: true });
  assert.equal(reopened.prepare("SELECT COUNT(*) FROM knocker_events").pluck().get(), 3);
  reopened.close();
});

test("SQLite holds no POSIX lock on the -wal file, so Knocker's descriptor on it cannot release one (Linux /proc/locks)", async () => {
  const { path, webhooks, stripe } = inbox("full");
  await Promise.all(Array.from({ length: 20 }, (_, i) => stripe.receive(signed(`evt_l${i}`))));
  const inode = (file: string) => String(statSync(file).ino);
  const ours = readFileSync("/proc/locks", "utf8").split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[4] === String(process.pid))
    .map((fields) => fields[5]!.split(":")[2]);
  assert.ok(ours.includes(inode(`${path}-shm`)), "the check sees SQLite's lock on the -shm file");
  assert.ok(!ours.includes(inode(`${path}-wal`)), "no lock on the -wal file");
  await webhooks.close();
});

test("a Database opened by a relative path before a chdir: reads and the WAL sync still find the right file", async () => {
  const home = process.cwd();
  const first = tempDir("knocker-cwd-a-");
  const db = (() => {
    process.chdir(first);
    try {
      return new Database("relative.db");
    } finally {
      process.chdir(tempDir("knocker-cwd-b-"));
    }
  })();
  try {
    const webhooks = open(db);
    const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
    await stripe.receive(signed("evt_rel_warm"));
    const release = await holdThreadPool();
    try {
      const held = stripe.receive(signed("evt_rel_held"));
      assert.equal(await settledWithin(held, 200), false, "the receipt waits for the sync of relative.db-wal");
      release();
      assert.equal((await held).statusCode, 204);
    } catch (error) {
      release();
      throw error;
    }
    assert.deepEqual((await webhooks.listEvents({ limit: 10 })).map((event) => event.providerEventId).sort(), ["evt_rel_held", "evt_rel_warm"]);
    await webhooks.close();
  } finally {
    db.close();
    process.chdir(home);
  }
});
