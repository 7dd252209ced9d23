// handle()'s types, checked by the compiler: test/fixtures/handler-types.ts compiles as written
// (every synchronous handler is accepted, every `// @ts-expect-error` line is an error), and a
// copy without those marks fails exactly on the marked lines, a Promise-returning handler with
// the error that quotes the rule.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE = join(ROOT, "test", "fixtures", "handler-types.ts");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const RULE = "a transactional handler runs inside the SQLite write transaction and must not return a Promise";

test("handle(): synchronous handlers compile, Promise-returning ones do not, and the error says why", () => {
  const source = readFileSync(FIXTURE, "utf8").split("\n");
  // The copy keeps every line where it was (a mark becomes an empty line), so errors point at
  // the line after each mark. It sits at the fixture's depth, so its imports resolve the same.
  const expected = new Map<number, string>();
  const unmarked = source.map((line, index) => {
    const mark = /^\s*\/\/ @ts-expect-error (.*)$/.exec(line);
    if (!mark) return line;
    expected.set(index + 2, mark[1]!);
    return "";
  });
  assert.ok(expected.size >= 8, `found ${expected.size} marks`);

  // One program for both files: the fixture must come out clean, the copy with its errors.
  const dir = join(ROOT, ".tmp", `handler-types-${process.pid}`);
  mkdirSync(join(dir, "copy"), { recursive: true });
  try {
    const copy = join(dir, "copy", "handler-types.ts");
    writeFileSync(copy, unmarked.join("\n").replaceAll('"../../src/index.js"', '"../../../src/index.js"'));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      extends: "../../tsconfig.json", include: [], files: [FIXTURE, copy], compilerOptions: { noEmit: true },
    }));
    const run = spawnSync(process.execPath, [TSC, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    // A diagnostic is its first line and the indented lines after it (an overload's details).
    const errors: string[] = [];
    for (const line of run.stdout.split("\n")) {
      if (/\): error TS\d+/.test(line)) errors.push(line);
      else if (/^\s/.test(line) && errors.length > 0) errors[errors.length - 1] += `\n${line}`;
    }
    assert.deepEqual(errors.filter((line) => !line.includes("copy/handler-types.ts")), [], "the fixture itself compiles (and every mark is used)");

    const byLine = new Map<number, string>();
    for (const line of errors) {
      const [, at, message] = /copy\/handler-types\.ts\((\d+),\d+\): (error TS\d+: [\s\S]*)$/.exec(line)!;
      byLine.set(Number(at), message!);
    }
    assert.deepEqual([...byLine.keys()].sort((a, b) => a - b), [...expected.keys()].sort((a, b) => a - b), run.stdout);
    for (const [line, why] of expected) {
      const message = byLine.get(line)!;
      if (why.startsWith("tx.db")) assert.match(message, /TS2339: Property 'prepareStatement' does not exist on type 'SqliteDatabase'/, `line ${line}`);
      else if (why.startsWith("tx.query")) assert.match(message, /TS2339: Property 'query' does not exist on type 'HandlerTx'/, `line ${line}`);
      else if (why.startsWith("tx.run")) assert.match(message, /TS2339: Property 'run' does not exist on type 'PostgresHandlerTx'/, `line ${line}`);
      // TS2345 for a single signature; TS2769 ("no overload matches") now that handle() also has
      // the async overloads, with the rule in the transactional overload's detail.
      else assert.ok(/^error TS(2345|2769)/.test(message) && message.includes(RULE), `line ${line} (${why}): ${message}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
