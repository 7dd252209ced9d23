// docs/telemetry.md: its examples (the span tree, the Prometheus recipe) run as written, with the
// OpenTelemetry packages they import, and print what their `// expected` comments and output
// blocks say.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/telemetry.md", import.meta.url), "utf8");
const runnable = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"') && !code.startsWith("open("));
const spanTree = /It prints[^\n]*\n\n```text\n([\s\S]*?)```/.exec(doc)![1]!.trim().split("\n");

/** Run an example from the repository's .tmp/ (git-ignored), so its OpenTelemetry imports resolve as in an app. */
function run(code: string, name: string) {
  const scripts = new URL("../.tmp/", import.meta.url);
  mkdirSync(scripts, { recursive: true });
  const file = join(fileURLToPath(scripts), `telemetry-${name}-${process.pid}.mts`);
  writeFileSync(file, runnableExample(code));
  const result = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: tempDir(), encoding: "utf8", timeout: 30_000 });
  rmSync(file, { force: true });
  assert.equal(result.status, 0, result.stderr);
  return printedLines(result.stdout);
}

test("docs/telemetry.md has its two runnable examples", () => assert.equal(runnable.length, 2));

test("docs/telemetry.md: the span tree example prints the spans it shows", () => {
  assert.deepEqual(run(runnable[0]!, "spans"), spanTree);
});

test("docs/telemetry.md: the Prometheus recipe serves what its comments say", () => {
  const code = runnable[1]!;
  assert.equal(expectedPrints(code).length, 4);
  assert.deepEqual(run(code, "prometheus"), expectedPrints(code));
});
