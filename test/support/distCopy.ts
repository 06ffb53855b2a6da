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

/** Whether this Node's V8 accepts `cache` for `dist`'s bundle, compiled as the launcher compiles it. */
export function codeCacheAccepted(dist: string, cache: string): boolean {
  const check = `const fs = require("fs"), vm = require("vm");
const bundle = ${JSON.stringify(path.join(dist, BUNDLE_FILE))};
const cachedData = fs.readFileSync(${JSON.stringify(cache)});
process.stdout.write(String(!new vm.Script(fs.readFileSync(bundle, "utf8"), { filename: bundle, cachedData }).cachedDataRejected));`;
  return execFileSync(process.execPath, ["-e", check], { encoding: "utf8" }) === "true";
}
