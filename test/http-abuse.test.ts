// What an attacker with the URL alone can do, over real loopback HTTP against a Knocker app in a
// child process (bounded in time and count): floods of unsigned bodies cost bounded disk, bodies
// held open cost bounded memory, a trickled body is cut off; valid webhooks keep being answered.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { statSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import Database from "better-sqlite3";
import type { OpenOptions } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { Child, fixture, sleep } from "./support/processes.js";

const SECRET = "whsec_abuse";
const MiB = 1024 * 1024;

async function startServer(options: OpenOptions): Promise<{ child: Child; port: number; path: string }> {
  const path = tempDbPath();
  const child = new Child(fixture("http-abuse-server.ts"), [JSON.stringify({ path, options })], ["--expose-gc"]);
  const ready = await child.next("ready", 20_000);
  return { child, port: ready.port as number, path };
}

async function rss(child: Child): Promise<number> {
  const before = child.of("rss").length;
  child.send({ type: "rss" });
  await child.until(() => child.of("rss").length > before, 10_000, "an rss report");
  return child.of("rss").at(-1)!.rss as number;
}

function post(port: number, headers: Record<string, string>, body: Buffer | string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/stripe", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let sequence = 0;
function validWebhook(port: number) {
  const body = JSON.stringify({ id: `evt_valid_${process.pid}_${sequence++}`, type: "invoice.paid", object: "event" });
  const t = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
  return post(port, { "content-type": "application/json", "stripe-signature": `t=${t},v1=${signature}` }, body);
}

/** A signature header of the right shape and a fresh timestamp that does not match: the body must be read to refuse it. */
const forgedSignature = () => `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`;

/**
 * The database's size once its WAL is checkpointed into it (the WAL itself is reused in place
 * and bounded by SQLite's autocheckpoint, whatever is stored). This process never opens the file
 * otherwise; the server is another process.
 */
function fileBytes(path: string): number {
  const db = new Database(path);
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } finally {
    db.close();
  }
  return statSync(path).size;
}

test("4 clients flooding unsigned 4 MB bodies: the file grows within the rejected-delivery budget, every valid webhook gets 204", async () => {
  const invalidDeliveriesPerMinute = 60;
  const invalidBodyBytes = 4096;
  const { child, port, path } = await startServer({ invalidDeliveriesPerMinute, invalidBodyBytes });
  try {
    assert.equal((await validWebhook(port)).status, 204);
    const before = fileBytes(path);
    const flood = Buffer.alloc(4 * 1000 * 1000, 0x61);
    const until = Date.now() + 5000;
    let sent = 0;
    const statuses = new Map<number, number>();
    const flooders = Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        const { status } = await post(port, { "content-type": "application/json", "stripe-signature": forgedSignature() }, flood);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        sent += flood.length;
      }
    });
    const valid: number[] = [];
    const validSender = (async () => {
      while (Date.now() < until) {
        valid.push((await validWebhook(port)).status);
        await sleep(100);
      }
    })();
    await Promise.all([...flooders, validSender]);
    const grown = fileBytes(path) - before;
    // Each stored rejection: invalidBodyBytes of body plus its headers and row; the valid ones are small.
    const budget = invalidDeliveriesPerMinute * (invalidBodyBytes + 2048) + valid.length * 4096 + 2 * MiB;
    assert.ok(sent >= 100 * MiB, `the flood sent only ${sent} bytes`);
    assert.deepEqual([...statuses.keys()], [401], JSON.stringify([...statuses]));
    assert.ok(grown <= budget, `the file grew by ${grown} bytes for ${sent} bytes of flood (budget ${budget})`);
    assert.ok(valid.length >= 10);
    assert.deepEqual(valid.filter((s) => s !== 204), [], "every valid webhook during the flood was stored");
  } finally {
    child.kill();
    await child.closed;
  }
});

/** Open a connection that sends all but the last byte of a `length`-byte body and then waits. */
function holdBody(port: number, length: number): { socket: Socket; answered: Promise<string> } {
  const socket = connect(port, "127.0.0.1");
  let response = "";
  const answered = new Promise<string>((resolve) => {
    socket.on("data", (chunk) => (response += chunk.toString("latin1")));
    socket.on("close", () => resolve(response));
    socket.on("error", () => {});
  });
  socket.on("connect", () => {
    socket.write(`POST /stripe HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nstripe-signature: ${forgedSignature()}\r\ncontent-length: ${length}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = length - 1;
    const pump = () => {
      while (left > 0 && !socket.destroyed) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!socket.write(part)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    pump();
  });
  return { socket, answered };
}

test("1,000 connections holding 4 MiB bodies: RSS grows less than 2x maxInFlightBodyBytes, valid webhooks are answered at once and stored once the holders time out", async () => {
  const maxInFlightBodyBytes = 64 * MiB; // the default
  const bodyTimeoutMs = 6000;
  const { child, port } = await startServer({ maxInFlightBodyBytes, bodyTimeoutMs });
  const holders: Array<ReturnType<typeof holdBody>> = [];
  try {
    for (let i = 0; i < 5; i++) assert.equal((await validWebhook(port)).status, 204); // warm
    const baseline = await rss(child);
    for (let i = 0; i < 1000; i++) {
      holders.push(holdBody(port, 4 * MiB));
      if (i % 100 === 99) await sleep(20);
    }
    // Connections refused at once are closed after the answer's 2 s grace; then only the
    // admitted bodies (within the budget) and the open sockets remain.
    await sleep(3000);
    const peak = await rss(child);
    // While the budget is spent, a valid webhook is answered at once: 503 with Retry-After, or 204.
    const started = Date.now();
    const during = await validWebhook(port);
    assert.ok(Date.now() - started < 2000, "answered promptly");
    assert.ok(during.status === 204 || (during.status === 503 && during.retryAfter !== undefined), JSON.stringify(during));
    assert.ok(peak - baseline < 2 * maxInFlightBodyBytes, `RSS grew by ${((peak - baseline) / MiB).toFixed(1)} MiB (limit ${(2 * maxInFlightBodyBytes) / MiB} MiB)`);

    const answers = await Promise.all(holders.map((h) => h.answered));
    const statusOf = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "none";
    const counts = new Map<string, number>();
    for (const text of answers) counts.set(statusOf(text), (counts.get(statusOf(text)) ?? 0) + 1);
    // Refused at once: 503; admitted and never finished: 408. Past 64 refused connections
    // closing at once, a connection is closed as soon as its 503 is flushed, and may be reset
    // before the client reads it ("none").
    assert.deepEqual([...counts.keys()].filter((s) => s !== "503" && s !== "408" && s !== "none"), [], JSON.stringify([...counts]));
    assert.ok((counts.get("408") ?? 0) > 0 && (counts.get("503") ?? 0) >= 64, JSON.stringify([...counts]));
    // The held bytes are given back: valid webhooks are stored again.
    assert.equal((await validWebhook(port)).status, 204);
  } finally {
    for (const h of holders) h.socket.destroy();
    child.kill();
    await child.closed;
  }
});

test("a trickled body is cut at bodyTimeoutMs: 408 and the connection closed", async () => {
  const { child, port } = await startServer({ bodyTimeoutMs: 500 });
  try {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())));
    socket.on("data", (chunk) => (response += chunk.toString("latin1")));
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
    const started = Date.now();
    socket.write(`POST /stripe HTTP/1.1\r\nhost: x\r\nstripe-signature: ${forgedSignature()}\r\ncontent-length: 1000\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write("a"), 50);
    const at = await Promise.race([closed, sleep(5000).then(() => -1)]);
    clearInterval(trickle);
    socket.destroy();
    assert.notEqual(at, -1, "the server closed the connection");
    assert.match(response, /^HTTP\/1\.1 408/);
    assert.ok(at - started >= 450 && at - started < 3000, `closed after ${at - started} ms`);
  } finally {
    child.kill();
    await child.closed;
  }
});
