#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: keep only the declaration files the package's public entry
// point reaches (dist/index.d.ts and what it imports, transitively), and delete the others.
//
// tsc writes a .d.ts for every module, internal ones included, and those name better-sqlite3's
// types (a devDependency): an app that installs only knocker has no @types/better-sqlite3, and
// with `skipLibCheck: false` any of them in its program fails with TS7016. The `exports` map
// exposes nothing but ".", so no import can reach an internal module's types; shipping them only
// adds files. test/package.test.ts checks that the kept ones never name better-sqlite3.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const entry = join(dist, "index.d.ts");
if (!existsSync(entry)) throw new Error(`${entry} is missing: run tsc -p tsconfig.build.json first`);

/** Relative module specifiers of a declaration file: `from "./x.js"`, `import("./x.js")`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

const kept = new Set();
const pending = [entry];
while (pending.length > 0) {
  const file = pending.pop();
  if (kept.has(file)) continue;
  kept.add(file);
  for (const [, specifier] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
    const target = resolve(dirname(file), specifier.replace(/\.js$/, ".d.ts"));
    if (!existsSync(target)) throw new Error(`${relative(dist, file)} imports ${specifier}, which has no declaration file`);
    pending.push(target);
  }
}

function* declarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (/\.d\.ts(?:\.map)?$/.test(entry.name)) yield path;
  }
}

// Silent on success: `npm pack --json` runs this through prepack, and its stdout is that JSON.
for (const file of declarations(dist)) {
  if (!kept.has(file.replace(/\.map$/, ""))) rmSync(file);
}
