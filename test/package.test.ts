// The package as a user installs it: `npm pack` (prepack builds dist/), the tarball installed
// into a fresh project, then apps of every kind run against it — an ESM app and a CommonJS app
// each do a real receive() into a real SQLite file and run its handler; TypeScript apps are
// checked with `skipLibCheck: false` under moduleResolution node16, nodenext and bundler; the
// packed bin runs. publint and @arethetypeswrong/cli judge the tarball itself.
//
// better-sqlite3 is not compiled again: the project's node_modules/better-sqlite3 is a symlink to
// this repository's built copy before the tarball is installed (npm keeps an installed package
// that satisfies the range and, offline, fetches nothing). @types/node is linked the same way,
// after the install: a Node TypeScript app has it; @types/better-sqlite3 is never there.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = join(ROOT, "test", "fixtures", "package");
const BIN_DIR = join(ROOT, "node_modules", ".bin");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let tarball: string;
let packed: PackResult;
/** The project the tarball is installed in; each app is a folder inside it. */
let project: string;
let install: Run;
/** The packed files, unpacked (`package/…`). */
let unpacked: string;

function run(command: string, args: readonly string[], cwd: string, timeout = 120_000): Run {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: cleanEnv() });
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
}

/** The same, without blocking the event loop: the TypeScript checks run side by side. */
function runAsync(command: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Run> {
  const child = spawn(command, args, { cwd, env: cleanEnv() });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
  return new Promise((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** No npm_* variables of the `npm test` around us (they would point npm at this repository). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && !key.startsWith("KNOCKER_")) env[key] = value;
  return env;
}

const ok = (what: string, result: Run) => assert.equal(result.code, 0, `${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`);

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** An app folder inside the project: its package.json `type` and its files. */
function app(name: string, type: "module" | "commonjs", files: Record<string, string>): string {
  const dir = join(project, name);
  mkdirSync(dir);
  writeJson(join(dir, "package.json"), { name: `app-${name}`, private: true, type });
  for (const [file, source] of Object.entries(files)) copyFileSync(join(FIXTURES, source), join(dir, file));
  return dir;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "knocker-package-"));
  const pack = run("npm", ["pack", "--json", "--pack-destination", work], ROOT, 180_000);
  ok("npm pack", pack);
  packed = (JSON.parse(pack.stdout) as PackResult[])[0]!;
  tarball = join(work, packed.filename);

  unpacked = join(work, "unpacked");
  mkdirSync(unpacked);
  ok("tar", run("tar", ["-xzf", tarball, "-C", unpacked], work));

  project = join(work, "project");
  mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
  writeJson(join(project, "package.json"), { name: "knocker-package-test", private: true });
  symlinkSync(join(ROOT, "node_modules", "better-sqlite3"), join(project, "node_modules", "better-sqlite3"), "dir");
  install = run("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball], project);
  ok("npm install <tarball>", install);
  symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(project, "node_modules", "@types", "node"), "dir");
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball: dist without source maps, only public declarations, docs and metadata, no install-time script", () => {
  const files = packed.files.map((f) => f.path);
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("dist/cli/main.js"));
  assert.deepEqual(files.filter((f) => f.endsWith(".map")), [], "no source maps: the sources they would point to are not shipped");
  assert.ok(files.includes("docs/cli.md") && files.includes("README.md") && files.includes("LICENSE"));
  assert.deepEqual(files.filter((f) => /^(?:src|test|bench|examples|scripts|providers)\//.test(f)), []);

  // Every declaration file names only node built-ins and its siblings: better-sqlite3's types are
  // a devDependency, absent from an app that installs knocker.
  const declarations = files.filter((f) => f.endsWith(".d.ts"));
  for (const file of declarations) {
    const text = readFileSync(join(unpacked, "package", file), "utf8");
    for (const [, specifier] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|reference\s+types=)["']([^"']+)["']/g)) {
      assert.ok(specifier!.startsWith("./") || specifier!.startsWith("../") || specifier!.startsWith("node:"), `${file} imports ${specifier}`);
    }
  }

  const pkg = JSON.parse(readFileSync(join(unpacked, "package", "package.json"), "utf8")) as Record<string, any>;
  for (const script of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(pkg.scripts?.[script], undefined, `scripts.${script}`);
  assert.match(pkg.repository?.url, /^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
  assert.match(pkg.homepage, /^https:\/\//);
  assert.match(pkg.bugs?.url, /^https:\/\//);
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes("webhooks"));

  // Relative links of the packed README and docs lead to packed files.
  for (const doc of files.filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(unpacked, "package", doc), "utf8");
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const path = relative(join(unpacked, "package"), resolve(dirname(join(unpacked, "package", doc)), target!));
      assert.ok(files.includes(path) || files.some((f) => f.startsWith(`${path.replace(/\/$/, "")}/`)), `${doc} links to ${target}, which is not in the package`);
    }
  }
});

test("npm install of the tarball: no warning, and knocker has no install script for allowScripts to approve", () => {
  assert.doesNotMatch(install.stderr, /npm warn/i, install.stderr);
  // npm >= 11.? lists the packages whose install scripts an app must approve; better-sqlite3 is
  // one (its native build), knocker must not be (a `prepare` script was).
  const scripts = run("npm", ["install-scripts", "ls"], project);
  if (scripts.code === 0) assert.doesNotMatch(scripts.stdout + scripts.stderr, /knocker@/, scripts.stdout);
});

test("ESM: import from the installed package, receive into a real SQLite file, the handler runs", () => {
  const dir = app("esm", "module", { "app.mjs": "consumer.mjs" });
  const result = run(process.execPath, ["app.mjs", join(dir, "esm.db")], dir, 30_000);
  ok("the ESM app", result);
  assert.equal(result.stderr, "");
  assert.deepEqual(JSON.parse(result.stdout), {
    result: { deliveryId: 1, eventId: 1, duplicate: false, statusCode: 204 }, paid: ["o_esm"], knockerError: "function",
  });
});

test("pg is an optional peer: not installed with knocker, and a Postgres inbox without it fails with ERR_DEPENDENCY_MISSING", () => {
  assert.equal(existsSync(join(project, "node_modules", "pg")), false, "npm install did not add the optional peer");
  const dir = join(project, "no-pg");
  mkdirSync(dir);
  writeJson(join(dir, "package.json"), { name: "app-no-pg", private: true, type: "module" });
  writeFileSync(join(dir, "app.mjs"), [
    'import { open } from "knocker";',
    'const sqlite = open(":memory:"); await sqlite.close();', // SQLite never needs pg
    'try { open("postgres://app@127.0.0.1:1/app"); console.log("opened"); } catch (error) { console.log(error.code, /npm install pg/.test(error.message)); }',
  ].join("\n"));
  const result = run(process.execPath, ["app.mjs"], dir, 30_000);
  ok("the app without pg", result);
  assert.equal(result.stdout.trim(), "ERR_DEPENDENCY_MISSING true");
});

test("@opentelemetry/api is an optional peer: without it knocker imports, receives over HTTP and handles, and records nothing", () => {
  assert.equal(existsSync(join(project, "node_modules", "@opentelemetry")), false, "npm install did not add the optional peer");
  const dir = join(project, "no-otel");
  mkdirSync(dir);
  writeJson(join(dir, "package.json"), { name: "app-no-otel", private: true, type: "module" });
  writeFileSync(join(dir, "app.mjs"), [
    'import { createServer } from "node:http";',
    'import Database from "better-sqlite3";',
    'import { open } from "knocker";',
    "const path = process.argv[2];",
    "const webhooks = open(path);",
    "const handled = [];",
    'webhooks.endpoint("orders", { path: "/orders" }).handle((event) => void handled.push(event.json().id));',
    "const handler = webhooks.nodeHandler();",
    "const server = createServer((req, res) => void handler(req, res));",
    'await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));',
    "const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;",
    'const response = await fetch(`http://127.0.0.1:${server.address().port}/orders`, { method: "POST", body: JSON.stringify({ id: "o_1" }), headers: { traceparent } });',
    "const controller = new AbortController();",
    "const worker = webhooks.runWorker({ signal: controller.signal });",
    "while (handled.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));",
    "controller.abort(); await worker; server.close(); await webhooks.close();",
    'const stored = new Database(path, { readonly: true }).prepare("SELECT trace_context FROM knocker_events").pluck().all();',
    "let refused;",
    'try { open(":memory:", { telemetry: { tracerProvider: { getTracer() {} } } }); } catch (error) { refused = [error.code, /npm install @opentelemetry\\/api/.test(error.message)]; }',
    "console.log(JSON.stringify({ status: response.status, handled, stored, refused }));",
  ].join("\n"));
  const result = run(process.execPath, ["app.mjs", join(dir, "app.db")], dir, 30_000);
  ok("the app without @opentelemetry/api", result);
  assert.equal(result.stderr, "");
  assert.deepEqual(JSON.parse(result.stdout), { status: 204, handled: ["o_1"], stored: [null], refused: ["ERR_INVALID_OPTION", true] });
});

// require() of an ES module needs Node >= 20.19 / 22.12 (process.features.require_module); the
// package has no top-level await in its graph, which require(esm) would refuse (ERR_REQUIRE_ASYNC_MODULE).
const requireEsm = (process.features as { require_module?: boolean }).require_module === true;

test("CommonJS: require() of the installed package, receive and handle", { skip: !requireEsm && "this Node cannot require() ES modules" }, () => {
  const dir = app("cjs", "commonjs", { "app.cjs": "consumer.cjs" });
  const result = run(process.execPath, ["app.cjs", join(dir, "cjs.db")], dir, 30_000);
  ok("the CommonJS app", result);
  assert.equal(result.stderr, "", "no warning either");
  assert.deepEqual(JSON.parse(result.stdout), {
    result: { deliveryId: 1, eventId: 1, duplicate: false, statusCode: 204 }, paid: ["o_cjs"], knockerError: "function",
  });
});

test("no top-level await anywhere in dist: require() loads every module, the bin included", { skip: !requireEsm && "this Node cannot require() ES modules" }, () => {
  // require(esm) refuses a module graph with a top-level await (ERR_REQUIRE_ASYNC_MODULE), so a
  // require() of each module is the check. The bin's main.js runs when loaded: it is given
  // `--version` (argv after the script) and loaded last.
  const dist = join(project, "node_modules", "knocker", "dist");
  const modules: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith(".js")) modules.push(join(dir, entry.name));
    }
  };
  walk(dist);
  const main = join(dist, "cli", "main.js");
  assert.ok(modules.includes(main) && modules.length > 50, `${modules.length} modules`);
  const ordered = [...modules.filter((m) => m !== main), main];
  const script =
    "const failed = [];" +
    "for (const file of JSON.parse(process.env.MODULES)) {" +
    "  try { require(file); } catch (error) { failed.push(`${file}: ${error.code ?? ''} ${error.message}`); }" +
    "}" +
    "process.stderr.write(JSON.stringify(failed));";
  const result = spawnSync(process.execPath, ["-e", script, "--", "knocker", "--version"], {
    cwd: project, encoding: "utf8", env: { ...cleanEnv(), MODULES: JSON.stringify(ordered) },
  });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stderr), []);
  assert.equal(result.stdout, `${JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8")).version}\n`, "the bin ran (--version)");
});

test("TypeScript: skipLibCheck false, moduleResolution node16, nodenext (ESM and CommonJS) and bundler", async () => {
  const base = { strict: true, skipLibCheck: false, noEmit: true, types: ["node"], target: "ES2022", exactOptionalPropertyTypes: true };
  const projects = [
    { name: "ts-node16", type: "module", compilerOptions: { ...base, module: "node16", moduleResolution: "node16" } },
    { name: "ts-nodenext", type: "module", compilerOptions: { ...base, module: "nodenext", moduleResolution: "nodenext" } },
    // TypeScript >= 5.8 models require(esm) under nodenext: a CommonJS app imports knocker as is.
    { name: "ts-nodenext-cjs", type: "commonjs", compilerOptions: { ...base, module: "nodenext", moduleResolution: "nodenext" } },
    { name: "ts-bundler", type: "module", compilerOptions: { ...base, module: "esnext", moduleResolution: "bundler" } },
  ] as const;
  const checks = projects.map((p) => {
    const dir = app(p.name, p.type, { "consumer.ts": "consumer.ts" });
    writeJson(join(dir, "tsconfig.json"), { compilerOptions: p.compilerOptions, files: ["consumer.ts"] });
    return runAsync(process.execPath, [TSC, "-p", "tsconfig.json", "--pretty", "false", "--listFiles"], dir);
  });
  const results = await Promise.all(checks);
  results.forEach((result, i) => {
    ok(`tsc in ${projects[i]!.name}`, result);
    // The program really is knocker's declarations (not something found elsewhere), without better-sqlite3's.
    assert.match(result.stdout, /\/node_modules\/knocker\/dist\/index\.d\.ts$/m, projects[i]!.name);
    assert.doesNotMatch(result.stdout, /better-sqlite3/, projects[i]!.name);
  });
});

test("the packed bin: knocker --help and a read of the file an app wrote", () => {
  const bin = join(project, "node_modules", ".bin", "knocker");
  assert.ok(existsSync(bin), "node_modules/.bin/knocker");
  const help = run(bin, ["--help"], project);
  ok("knocker --help", help);
  assert.match(help.stdout, /^Usage: knocker <command>/);
  // What the README says: in an app that has knocker installed, npx runs this bin and passes it
  // every argument, --help included (offline: npx must not look for anything in the registry).
  const npx = spawnSync("npx", ["knocker", "--help"], { cwd: project, encoding: "utf8", timeout: 60_000, env: { ...cleanEnv(), npm_config_offline: "true" } });
  assert.equal(npx.status, 0, npx.stderr);
  assert.equal(npx.stdout, help.stdout);
  const dir = join(project, "bin-app");
  mkdirSync(dir);
  writeJson(join(dir, "package.json"), { name: "app-bin", private: true, type: "module" });
  copyFileSync(join(FIXTURES, "consumer.mjs"), join(dir, "app.mjs"));
  ok("the ESM app", run(process.execPath, ["app.mjs", join(dir, "bin.db")], dir, 30_000));
  const events = run(bin, ["events", "--db", join(dir, "bin.db"), "--json"], project);
  ok("knocker events", events);
  assert.deepEqual((JSON.parse(events.stdout) as Array<{ status: string; eventType: string }>).map((e) => [e.eventType, e.status]), [["order.paid", "handled"]]);
});

test("publint: no errors, warnings or suggestions", () => {
  const result = run(join(BIN_DIR, "publint"), ["run", tarball, "--strict", "--level", "suggestion"], ROOT);
  ok("publint", result);
  assert.match(result.stdout, /All good!/, result.stdout);
});

test("@arethetypeswrong/cli: every resolution types the package", () => {
  // Profile "strict" (all four resolutions, node10 included), with one rule left out:
  // cjs-resolves-to-esm. It flags node16-from-CommonJS resolving to ESM, which is exactly the
  // design: the package is ESM-only and CommonJS apps load it with require(esm) (Node >= 20.19 /
  // 22.12), as the README says and the CommonJS test above does for real; attw's TypeScript
  // (5.6) predates TypeScript 5.8, which models require(esm) under nodenext (the ts-nodenext-cjs
  // check above). Every other problem in every resolution still fails this test.
  // --no-definitely-typed: do not look up a @types/knocker (no registry access here).
  const result = run(join(BIN_DIR, "attw"), [tarball, "--format", "json", "--no-definitely-typed", "--ignore-rules", "cjs-resolves-to-esm"], ROOT);
  const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[] } };
  const unexpected = report.analysis.problems.filter((p) => (p as { kind: string }).kind !== "CJSResolvesToESM");
  assert.deepEqual(unexpected, []);
  assert.equal(result.code, 0, result.stdout.slice(0, 2000));
});
