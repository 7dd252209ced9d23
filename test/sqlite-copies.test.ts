// Two copies of SQLite in one process: open() warns, naming both; one copy never warns; and the
// fix the warning names (the app's own better-sqlite3 Database) loads no second copy. Each case
// runs in a child process of its own, since a loaded library cannot be unloaded.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import { tempDir } from "./support.js";

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const ADDON = realpathSync(join(packageDir("better-sqlite3"), "build", "Release", "better_sqlite3.node"));
const INDEX = new URL("../src/index.ts", import.meta.url).href;

interface Report {
  warnings: Array<{ name: string; code?: string; message: string }>;
  libraries: string[];
  handled?: number;
}

/**
 * Run `body` (module code with `open`, `dir` and `report` in scope) in a child; it returns what
 * process warnings were emitted and which SQLite libraries were mapped at the end.
 */
async function inChild(dir: string, body: string): Promise<Report> {
  const script = `
    import { open } from ${JSON.stringify(INDEX)};
    import { createRequire } from "node:module";
    import { readFileSync } from "node:fs";
    const require = createRequire(import.meta.url);
    const dir = ${JSON.stringify(dir)};
    const report = { warnings: [] };
    process.on("warning", (w) => report.warnings.push({ name: w.name, code: w.code, message: w.message }));
    ${body}
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    report.libraries = [...new Set(readFileSync("/proc/self/maps", "utf8").split("\\n")
      .map((l) => l.slice(l.indexOf("/"))).filter((f) => /\\.node$|sqlite/.test(f)))];
    console.log(JSON.stringify(report));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd() });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Report;
}

const copiesWarnings = (report: Report) => report.warnings.filter((w) => w.code === "KNOCKER_SQLITE_COPIES");
const onLinux = { skip: process.platform === "linux" ? false : "reads /proc/self/maps: Linux only" };

test("one copy of SQLite never warns: a path, an app's Database, reader connections, several inboxes", onLinux, async () => {
  const dir = tempDir();
  const report = await inChild(dir, `
    const Database = require("better-sqlite3");
    const a = open(dir + "/a.db");
    a.endpoint("e", { path: "/e" });
    await a.receive({ endpoint: "e", body: "{}", headers: {} });
    await a.listEvents(); await a.listDeliveries();
    const b = open(new Database(dir + "/b.db"));
    await b.listEvents();
    await a.close(); await b.close();`);
  assert.deepEqual(copiesWarnings(report), []);
  assert.ok(report.libraries.includes(ADDON), JSON.stringify(report.libraries));
});

test("a second copy of the SQLite addon loaded in the process: open() warns once, naming both files and the fix", onLinux, async () => {
  const dir = tempDir();
  const copy = join(dir, "vendored", "better_sqlite3.node");
  mkdirSync(dirname(copy));
  copyFileSync(ADDON, copy);
  const report = await inChild(dir, `
    const first = open(dir + "/a.db");
    process.dlopen({ exports: {} }, ${JSON.stringify(copy)});
    const second = open(dir + "/b.db");
    const third = open(dir + "/c.db");
    await first.close(); await second.close(); await third.close();`);
  const warnings = copiesWarnings(report);
  assert.equal(warnings.length, 1, JSON.stringify(report.warnings));
  const [warning] = warnings;
  assert.equal(warning!.name, "KnockerWarning");
  assert.match(warning!.message, /2 copies of SQLite/);
  assert.ok(warning!.message.includes(ADDON), warning!.message);
  assert.ok(warning!.message.includes(copy), warning!.message);
  assert.match(warning!.message, /dedupe better-sqlite3/);
  assert.match(warning!.message, /pass your app's own better-sqlite3 Database/);
});

test("the fix the warning names: an app's own better-sqlite3 install passed to open() is the only copy loaded, readers included", onLinux, async () => {
  // An app whose better-sqlite3 is a separate install from Knocker's (as npm leaves it when the
  // versions differ): a copy of the package and its run-time dependencies.
  const dir = tempDir();
  const modules = join(dir, "app", "node_modules");
  for (const name of ["better-sqlite3", "bindings", "file-uri-to-path"]) {
    cpSync(packageDir(name), join(modules, name), { recursive: true, filter: (src) => !src.includes(`${join("build", "Release", "obj.target")}`) });
  }
  const appAddon = join(realpathSync(modules), "better-sqlite3", "build", "Release", "better_sqlite3.node");
  const report = await inChild(dir, `
    const AppDatabase = createRequire(${JSON.stringify(join(dir, "app", "index.js"))})("better-sqlite3");
    const db = new AppDatabase(dir + "/app.db");
    const webhooks = open(db, { maxReaders: 2 });
    let handled = 0;
    webhooks.endpoint("e", { path: "/e" }).handle(() => void handled++);
    const { eventId } = await webhooks.receive({ endpoint: "e", body: "{}", headers: {} });
    const controller = new AbortController();
    const running = webhooks.runWorker({ signal: controller.signal });
    while ((await webhooks.getEvent(eventId)).status !== "handled") await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await running;
    await webhooks.listEvents(); // through a reader connection
    for await (const _ of webhooks.iterateEvents({})) break;
    report.handled = handled;
    await webhooks.close();
    db.close();`);
  assert.deepEqual(copiesWarnings(report), []);
  assert.equal(report.handled, 1);
  assert.ok(report.libraries.includes(appAddon), JSON.stringify(report.libraries));
  assert.ok(!report.libraries.includes(ADDON), `Knocker's own copy was loaded: ${JSON.stringify(report.libraries)}`);
});
