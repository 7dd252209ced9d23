// Every TypeScript example in the README that imports "knocker" runs as written, and every
// `console.log(...) // expected` comment matches what it prints.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"'));

test("the README has runnable examples", () => {
  assert.ok(blocks.length >= 5, `found ${blocks.length}`);
});

blocks.forEach((code, index) => {
  const title = code.split("\n").find((line) => line.includes("open(") || line.startsWith("class")) ?? `block ${index}`;
  test(`README example ${index + 1}: ${title.trim()}`, () => {
    const dir = tempDir();
    const file = join(dir, `example-${index}.mts`);
    writeFileSync(file, runnableExample(code));
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const expected = expectedPrints(code);
    const printed = printedLines(run.stdout);
    assert.deepEqual(printed, expected);
  });
});
