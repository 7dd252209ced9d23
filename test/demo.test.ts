// `npm start` is examples/demo.ts: run it as a real child process and read the journeys it prints.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { tempDir } from "./support.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";

const DEMO = new URL("../examples/demo.ts", import.meta.url).pathname;

function startDemo(args: string[], env: Record<string, string> = {}) {
  const dbPath = join(tempDir(), "demo.db");
  const child = spawn(process.execPath, ["--import", "tsx", DEMO, ...args], {
    env: { ...process.env, PORT: "0", DEMO_DB: dbPath, ...env },
  }) as ChildProcessWithoutNullStreams;
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = stdout.match(pattern);
      if (match) return match;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, dbPath, exited, waitFor, output: () => ({ stdout, stderr }) };
}

for (const engine of engineMatrix()) {
  test(`npm start --once (${engine.name}): the burst's journeys are printed and the handlers wrote the demo table`, async () => {
    const target = (await engine.location()).db;
    const demo = startDemo(["--once"], { DEMO_DB: target });
    assert.equal(await demo.exited, 0, demo.output().stderr);
    const { stdout, stderr } = demo.output();
    assert.equal(stderr, "");
    const line = (label: string) => stdout.split("\n").find((l) => l.startsWith(label)) ?? assert.fail(`no line for ${label}:\n${stdout}`);

    const paid = line("stripe: a checkout is paid").match(/POST \/webhooks\/stripe → 204 → delivery #(\d+) → event #(\d+) checkout\.session\.completed \(new\) → handled: demo_log #\d+ "order cs_demo_\w+ paid: 42\.00 EUR"/);
    assert.ok(paid, line("stripe: a checkout is paid"));
    assert.match(line("github: a push"), /→ 204 → delivery #\d+ → event #\d+ push \(new\) → handled: demo_log #\d+ "2 commit\(s\) pushed to refs\/heads\/main"/);
    assert.match(line("slack: the url_verification handshake"), /POST \/webhooks\/slack → 200 → delivery #\d+ \(handshake, answered\) → no event$/);
    assert.match(line("slack: an app mention"), /→ 204 → delivery #\d+ → event #\d+ app_mention \(new\) → handled: demo_log #\d+ "slack app_mention: hello Knocker"/);
    assert.match(line("standard-webhooks: a user is created"), /POST \/webhooks\/standard-webhooks → 204 → delivery #\d+ → event #\d+ user\.created \(new\) → handled: demo_log #\d+ "user\.created for ada@example\.com"/);
    assert.match(line("stripe: the same event again"), new RegExp(`→ 204 → delivery #\\d+ → event #${paid[2]} \\(duplicate: stored, not run again\\)$`));
    assert.match(line("github: a forged signature"), /→ 401 → delivery #\d+ \(rejected: github signature mismatch\) → no event$/);
    assert.match(stdout, /Stopped \(--once\)/);
    if (engine.name === "postgres") assert.ok(!stdout.includes(new URL(target).password), "the database password is not printed");

    const sql = await reader(engine, target);
    try {
      assert.deepEqual(await sql.all("SELECT endpoint, event_type FROM demo_log ORDER BY id"), [
        { endpoint: "stripe", event_type: "checkout.session.completed" },
        { endpoint: "github", event_type: "push" },
        { endpoint: "slack", event_type: "app_mention" },
        { endpoint: "standard-webhooks", event_type: "user.created" },
      ]);
      assert.equal(await sql.count("knocker_deliveries"), 7);
      assert.equal(await sql.count("knocker_events WHERE status = 'handled'"), 4);
    } finally {
      await sql.close();
    }
  });
}

/** demo_log and Knocker's tables, read by a connection of the test's own. */
async function reader(engine: TestEngine, target: string) {
  if (engine.name === "sqlite") {
    const db = new Database(target, { readonly: true });
    return {
      all: async (text: string) => db.prepare(text).all(),
      count: async (from: string) => db.prepare(`SELECT count(*) FROM ${from}`).pluck().get() as number,
      close: async () => void db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: target, max: 1, options: "-c search_path=knocker,public" });
  return {
    all: async (text: string) => (await pool.query(text)).rows,
    count: async (from: string) => Number((await pool.query(`SELECT count(*) AS n FROM ${from}`)).rows[0].n),
    close: () => pool.end(),
  };
}

/** Run the printed curl line; without a curl binary, send what it says (its single-quoted arguments) with fetch. */
async function sendCurlLine(line: string): Promise<number> {
  if (spawnSync("curl", ["--version"]).status === 0) {
    const sent = spawnSync("sh", ["-c", line], { encoding: "utf8" });
    assert.equal(sent.status, 0, sent.stderr);
    return Number(sent.stdout.match(/^HTTP\/1\.1 (\d+)/)?.[1]);
  }
  const url = line.match(/-X POST (\S+)/)![1]!;
  const headers = Object.fromEntries([...line.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
  const body = line.match(/--data '([^']*)'/)![1]!;
  return (await fetch(url, { method: "POST", headers, body })).status;
}

test("npm start: the printed curl line is validly signed, its journey is printed, and SIGINT stops the demo cleanly", async () => {
  const demo = startDemo([]);
  try {
    const [, curl] = await demo.waitFor(/\n {2}(curl -i -X POST .+)\n/);
    await demo.waitFor(/Ctrl\+C to stop/);
    assert.equal(await sendCurlLine(curl!), 204);
    assert.equal(await sendCurlLine(curl!), 204, "the resend is a duplicate, still 204");
    await demo.waitFor(/sent by hand +POST \/webhooks\/github → 204 → delivery #\d+ → event #(\d+) issues \(new\) → handled: demo_log #\d+ "github issues \(opened\)"/);
    await demo.waitFor(/sent by hand +POST \/webhooks\/github → 204 → delivery #\d+ → event #\d+ \(duplicate: stored, not run again\)/);
  } finally {
    demo.child.kill("SIGINT");
  }
  assert.equal(await demo.exited, 0);
  assert.match(demo.output().stdout, /Stopped \(SIGINT\)/);
});

test("npm start: SIGTERM stops the demo cleanly; DEMO_ONCE=1 is --once", async () => {
  const running = startDemo([]);
  await running.waitFor(/Ctrl\+C to stop/);
  running.child.kill("SIGTERM");
  assert.equal(await running.exited, 0);
  assert.match(running.output().stdout, /Stopped \(SIGTERM\)/);

  const once = startDemo([], { DEMO_ONCE: "1" });
  assert.equal(await once.exited, 0);
  assert.match(once.output().stdout, /Stopped \(--once\)/);
});
