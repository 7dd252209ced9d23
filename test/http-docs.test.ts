// docs/http.md: every ```ts block that imports "knocker" runs as written and prints what its
// `// expected` comments say; every ```ts excerpt=<file> block is verbatim from that file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/http.md", import.meta.url), "utf8");
const runnable = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"'));
const excerpts = [...doc.matchAll(/```ts excerpt=(\S+)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1]!, code: m[2]! }));

test("docs/http.md has runnable examples and excerpts", () => {
  assert.ok(runnable.length >= 3, `found ${runnable.length}`);
  assert.ok(excerpts.length >= 4, `found ${excerpts.length}`);
});

runnable.forEach((code, index) => {
  test(`docs/http.md example ${index + 1} runs and prints what it says`, () => {
    const dir = tempDir();
    const file = join(dir, `http-example-${index}.mts`);
    writeFileSync(file, runnableExample(code));
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const expected = expectedPrints(code);
    assert.deepEqual(printedLines(run.stdout), expected);
  });
});

excerpts.forEach(({ file, code }) => {
  test(`docs/http.md excerpt of ${file} is verbatim`, () => {
    const source = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
    assert.ok(source.includes(code), `not found in ${file}:\n${code}`);
  });
});
