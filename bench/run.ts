// Runs every bench/*.bench.ts in its own process, one after another, so their numbers do not
// disturb each other; each prints its own table. The benches import "knocker", i.e. the built
// package users install (dist/, compiled by tsc), not the sources through tsx's transform: so
// the package is built first, and the numbers are those of the code that ships.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => only.length === 0 || only.some((word) => name.includes(word)))
  .sort();
const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: join(here, ".."), stdio: "inherit" });
if (build.status !== 0) process.exit(1);
let failed = false;
for (const file of files) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(here, file)], { stdio: "inherit" });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
