import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { BUNDLE_FILE, CODE_CACHE_FILE } from "../../src/launch/bundle.ts";
import { ROOT } from "./pipe.ts";

/** dist/ as the build leaves it: no code cache (a local training may have left one). */
export const BUILT = readdirSync(path.join(ROOT, "dist")).filter((name) => name !== CODE_CACHE_FILE);

/** A copy of dist/ as built, with no code cache, in `dir`/dist; and a TMPDIR of its own, `dir`/tmp. */
export function copyOfDist(dir: string): { dist: string; tmp: string } {
  const dist = path.join(dir, "dist");
  const tmp = path.join(dir, "tmp");
  mkdirSync(dist);
  mkdirSync(tmp);
  for (const name of BUILT) copyFileSync(path.join(ROOT, "dist", name), path.join(dist, name));
  return { dist, tmp };
}

/**
 * A script for `node -e` that prints `true` when that Node's V8 accepts `cache` for `bundle`,
 * compiled as the launcher compiles it (the file name and the source as read from disk).
 */
export function codeCacheCheck(bundle: string, cache: string): string {
  return `const fs = require("fs"), vm = require("vm");
const bundle = ${JSON.stringify(bundle)};
const cachedData = fs.readFileSync(${JSON.stringify(cache)});
process.stdout.write(String(!new vm.Script(fs.readFileSync(bundle, "utf8"), { filename: bundle, cachedData }).cachedDataRejected));`;
}

/** Whether this Node's V8 accepts `cache` for `dist`'s bundle. */
export function codeCacheAccepted(dist: string, cache: string): boolean {
  const check = codeCacheCheck(path.join(dist, BUNDLE_FILE), cache);
  return execFileSync(process.execPath, ["-e", check], { encoding: "utf8" }) === "true";
}
