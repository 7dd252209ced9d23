// `knocker dashboard`: the built bin as a child process serving a seeded inbox (a file, or a
// Postgres database) on 127.0.0.1. The
// printed URL's token is traded for a cookie; without it nothing is served; a form action works
// with the cookie and the page's CSRF token; --read-only refuses actions; SIGTERM stops it.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { request } from "node:http";
import { before, test } from "node:test";
import { BIN, buildBin, fails, seedInbox } from "./support/cli.js";
import { tempDbPath } from "./support.js";
import { engineMatrix } from "./support/engines.js";

before(() => buildBin());

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: URL;
  stdout: () => string;
  exited: Promise<number | null>;
}

async function start(args: readonly string[]): Promise<Running> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("KNOCKER_")));
  const child = spawn(process.execPath, [BIN, "dashboard", ...args], { env }) as ChildProcessWithoutNullStreams;
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const printed = /Knocker dashboard on (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)?.[1];
    if (printed) return { child, url: new URL(printed), stdout: () => out, exited };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the dashboard did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cookiePart = (setCookie: string) => setCookie.split(";")[0]!;

// On both engines (`--db` a file or a postgres:// URL).
for (const engine of engineMatrix()) {
  test(`${engine.name}: the printed URL's token opens the dashboard; nothing is served without it; actions need the page's CSRF token; SIGTERM stops it`, async () => {
    const { db, sql } = await engine.location();
    const { events } = await seedInbox(db);
    const running = await start(["--db", db, "--port", "0"]);
    try {
      const origin = running.url.origin;
      const token = running.url.searchParams.get("token")!;
      assert.match(token, /^[A-Za-z0-9_-]{32}$/, "a random token");
      assert.match(running.stdout(), /Ctrl\+C stops the server/);

      for (const path of ["/", "/events", `/events/${events.dead}`, "/assets/dashboard.css"]) {
        const response = await fetch(`${origin}${path}`);
        assert.equal(response.status, 401, path);
        assert.equal(await response.text(), "Unauthorized\n");
      }
      assert.equal((await fetch(`${origin}/?token=wrong-token-wrong-token`, { redirect: "manual" })).status, 401);

      // The token is traded for a cookie and dropped from the address.
      const traded = await fetch(`${origin}/events?status=dead&token=${token}`, { redirect: "manual" });
      assert.equal(traded.status, 303);
      assert.equal(traded.headers.get("location"), "/events?status=dead");
      const auth = cookiePart(traded.headers.getSetCookie()[0]!);
      assert.match(traded.headers.getSetCookie()[0]!, /HttpOnly; SameSite=Strict/);

      const page = await fetch(`${origin}/events/${events.dead}`, { headers: { cookie: auth } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /card declined/);
      const csrfCookie = cookiePart(page.headers.getSetCookie().find((c) => c.startsWith("knocker_csrf="))!);
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      assert.equal((await fetch(`${origin}/`, { headers: { authorization: `Bearer ${token}` } })).status, 200, "scripts may send the token as a bearer token");

      // A form action with both cookies and the token: the event is requeued in the file.
      const post = (fields: Record<string, string>, cookie: string) =>
        fetch(`${origin}/events/${events.dead}/requeue`, {
          method: "POST",
          redirect: "manual",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin },
          body: new URLSearchParams(fields).toString(),
        });
      assert.equal((await post({}, `${auth}; ${csrfCookie}`)).status, 403, "no CSRF token");
      assert.equal((await post({ csrf }, csrfCookie)).status, 401, "no access token");
      const done = await post({ csrf }, `${auth}; ${csrfCookie}`);
      assert.equal(done.status, 303);
      assert.equal(await sql.one("SELECT status FROM knocker_events WHERE id = ?", events.dead), "received");

      // A page that rebinds its own name to 127.0.0.1 is refused by name.
      const misdirected = await new Promise<number>((resolve, reject) => {
        request(`${origin}/`, { headers: { host: "evil.example", cookie: auth } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }).on("error", reject).end();
      });
      assert.equal(misdirected, 421);
    } finally {
      running.child.kill("SIGTERM");
    }
    assert.equal(await running.exited, 0);
    assert.match(running.stdout(), /Dashboard stopped\.\n$/);
  });
}

test("--read-only and --token: the given token works, actions are refused", async () => {
  const db = tempDbPath();
  const { events } = await seedInbox(db);
  const token = "operator-token-0123456789";
  const running = await start(["--db", db, "--port", "0", "--token", token, "--read-only"]);
  try {
    assert.equal(running.url.searchParams.get("token"), token);
    const headers = { authorization: `Bearer ${token}` };
    const page = await fetch(`${running.url.origin}/events/${events.dead}`, { headers });
    const html = await page.text();
    assert.doesNotMatch(html, /method="post"/);
    const response = await fetch(`${running.url.origin}/events/${events.dead}/requeue`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=x",
    });
    assert.equal(response.status, 403);
  } finally {
    running.child.kill("SIGINT");
  }
  assert.equal(await running.exited, 0);
});

test("usage errors and a port in use are one line on stderr", async () => {
  const db = tempDbPath();
  await seedInbox(db);
  assert.match(await fails(2, ["dashboard", "--db", db, "--token", "short"]), /--token must be at least 16 characters/);
  assert.match(await fails(2, ["dashboard", "--db", db, "--port", "70000"]), /--port must be an integer from 0 to 65535/);
  assert.match(await fails(2, ["dashboard", "--db", tempDbPath()]), /no database at/);
  const running = await start(["--db", db, "--port", "0"]);
  try {
    assert.match(await fails(1, ["dashboard", "--db", db, "--port", running.url.port]), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  } finally {
    running.child.kill("SIGTERM");
  }
  await running.exited;
});
