// docs/dashboard.md: every ```ts block that imports "knocker" runs as written and prints what its
// `// expected` comments say; the images it shows are in the repository (and so in the package).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/dashboard.md", import.meta.url), "utf8");
const runnable = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"'));

test("docs/dashboard.md has runnable examples and its screenshots", () => {
  assert.ok(runnable.length >= 2, `found ${runnable.length}`);
  const images = [...doc.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
  assert.ok(images.length >= 4);
  for (const image of images) assert.ok(existsSync(new URL(`../docs/${image}`, import.meta.url)), image);
});

runnable.forEach((code, index) => {
  test(`docs/dashboard.md example ${index + 1} runs and prints what it says`, () => {
    const dir = tempDir();
    // The script lives in the repository's .tmp/ (git-ignored) so that it finds the dev
    // dependencies an app would have installed (@hono/node-server); it runs in a fresh folder.
    const scripts = new URL("../.tmp/", import.meta.url);
    mkdirSync(scripts, { recursive: true });
    const file = join(fileURLToPath(scripts), `dashboard-example-${process.pid}-${index}.mts`);
    writeFileSync(file, runnableExample(code));
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    rmSync(file, { force: true });
    assert.equal(run.status, 0, run.stderr);
    const expected = expectedPrints(code);
    assert.deepEqual(printedLines(run.stdout), expected);
  });
});
