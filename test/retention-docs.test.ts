// docs/retention.md: every ```ts block that imports "knocker" runs as written and prints what its
// `// expected` comments say.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/retention.md", import.meta.url), "utf8");
const runnable = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"'));

test("docs/retention.md has runnable examples", () => {
  assert.equal(runnable.length, 2);
});

runnable.forEach((code, index) => {
  test(`docs/retention.md example ${index + 1} runs and prints what it says`, () => {
    const dir = tempDir();
    const file = join(dir, `retention-example-${index}.mts`);
    writeFileSync(file, runnableExample(code));
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "", "no error reached onError");
    const expected = expectedPrints(code);
    assert.ok(expected.length >= 3);
    assert.deepEqual(printedLines(run.stdout), expected);
  });
});
