// docs/cli.md: the session transcript is replayed against the demo inbox (`npm start`, run here as
// a real child process on a free port) with the built bin, and every other `knocker` example names
// a real command and real options.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { COMMANDS } from "../src/cli/cli.js";
import { GLOBAL_OPTIONS } from "../src/cli/args.js";
import { BIN, buildBin } from "./support/cli.js";
import { tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/cli.md", import.meta.url), "utf8");
const transcript = /```console transcript\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
const DEMO = fileURLToPath(new URL("../examples/demo.ts", import.meta.url));

let demo: ChildProcessWithoutNullStreams | undefined;
before(() => buildBin());
after(() => {
  demo?.kill("SIGTERM");
});

/** Times, signatures and the port differ between runs; alignment follows them. */
function normalize(text: string, port: string): string {
  return text
    .replaceAll(`127.0.0.1:${port}`, "127.0.0.1:<port>")
    .replaceAll("127.0.0.1:8787", "127.0.0.1:<port>")
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>")
    .replace(/t=\d+,v1=[0-9a-f]{64}/g, "t=<t>,v1=<sig>")
    .replace(/\b\d+ms\b/g, "<n>ms")
    .split("\n")
    .map((line) => line.replace(/ {2,}/g, "  ").trimEnd())
    .join("\n");
}

async function startDemo(cwd: string): Promise<string> {
  demo = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), DEMO], { cwd, env: { ...process.env, PORT: "0" } }) as ChildProcessWithoutNullStreams;
  let output = "";
  demo.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const port = /Knocker demo inbox on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    if (port && output.includes("Ctrl+C to stop")) return port;
    if (Date.now() > deadline || demo.exitCode !== null) throw new Error(`the demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait until the demo's worker has no received event left (it handles what the CLI replays). */
async function settled(db: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reader = new Database(db, { readonly: true });
    const waiting = reader.prepare("SELECT COUNT(*) FROM knocker_events WHERE status = 'received'").pluck().get() as number;
    reader.close();
    if (waiting === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("docs/cli.md: the session transcript replays against the demo inbox", async () => {
  const steps = transcript.split(/^\$ /m).filter(Boolean).map((chunk) => {
    const [command, ...output] = chunk.split("\n");
    return { command: command!, output: output.join("\n").trimEnd() };
  });
  assert.ok(steps.length >= 8, `found ${steps.length} steps`);

  const cwd = tempDir();
  // `knocker` on PATH, as after `npm install knocker` (npx puts node_modules/.bin there).
  const bin = join(cwd, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "knocker"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(join(bin, "knocker"), 0o755);
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: `${bin}:${process.env.PATH}` };
  for (const key of Object.keys(env)) if (key.startsWith("KNOCKER_")) delete env[key];

  let port = "";
  for (const { command, output } of steps) {
    if (command.startsWith("npm start")) {
      port = await startDemo(cwd);
      continue;
    }
    const exported = /^export (\w+)=(\S+)$/.exec(command);
    if (exported) {
      env[exported[1]!] = exported[2]!;
      continue;
    }
    const run = spawnSync("sh", ["-c", `exec 2>&1; ${command.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`)}`], { cwd, env, encoding: "utf8", timeout: 30_000 });
    assert.equal(normalize(run.stdout.trimEnd(), port), normalize(output, port), `$ ${command}`);
    await settled(join(cwd, "knocker-demo.db"));
  }
});

test("docs/cli.md: every other knocker example names a real command and real options", () => {
  const examples = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n")).filter((line) => /\bknocker\b|dist\/cli\/main\.js/.test(line));
  assert.ok(examples.length >= 10, `found ${examples.length}`);
  const global = Object.keys(GLOBAL_OPTIONS);
  for (const line of examples) {
    const words = line.replace(/\s+#.*$/, "").split(/\s+/);
    const at = words.findIndex((word) => word === "knocker" || word.endsWith("/.bin/knocker") || word.endsWith("dist/cli/main.js"));
    const name = words[at + 1]!;
    const options = words.filter((word) => word.startsWith("--")).map((word) => word.slice(2).split("=")[0]!);
    if (name === "--help") continue;
    if (name === "help") {
      const topic = words[at + 2];
      assert.ok(topic === undefined || COMMANDS.some((c) => c.name === topic), `no command ${topic} in: ${line}`);
      continue;
    }
    const command = COMMANDS.find((c) => c.name === name);
    assert.ok(command, `no command ${name} in: ${line}`);
    for (const option of options) assert.ok(option in command.options || global.includes(option), `no option --${option} for ${name} in: ${line}`);
  }
});
