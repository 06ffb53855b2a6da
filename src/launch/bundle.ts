import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";

/**
 * How the built program runs: `index.js` (the launcher) compiles `bundle.js`, the whole program as
 * one classic script, through `vm.Script` with `bundle.code-cache` beside it when there is one.
 *
 * Why not ES modules with Node's compile cache: that cache is written when a module is compiled,
 * so it holds only what V8 compiles while the modules load, and every function a run calls was
 * compiled again on every run (30 % of a run's instructions). A script's code cache made after a
 * whole run (`script.createCachedData()`, Node's documented way) holds those functions too; the
 * image's build makes one (`train-code-cache.js`). V8 rejects a cache made by another V8 version or
 * with other flags, or for a source of another length, and then compiles as if there were none.
 */
export const BUNDLE_FILE = "bundle.js";
export const CODE_CACHE_FILE = "bundle.code-cache";

/**
 * The bundle is one function expression (the build wraps it in these): running the script returns
 * it, and the launcher calls it with Node's `require` for builtins (the build's shims call
 * `__nodeRequire`; bundled CommonJS code may call `require`) and the URL `import.meta.url` names.
 */
export const BUNDLE_OPENING = "(function (__nodeRequire, require, __importMetaUrl) {";
export const BUNDLE_CLOSING = "})";
export const IMPORT_META_URL = "__importMetaUrl";

type Bundle = (nodeRequire: NodeJS.Require, require: NodeJS.Require, importMetaUrl: string) => void;

/** The code cache in `dir`, or undefined without a readable one: it only saves time. */
export function readCodeCache(dir: string): Buffer | undefined {
  try {
    return readFileSync(join(dir, CODE_CACHE_FILE));
  } catch {
    return undefined;
  }
}

/**
 * Compiles `dir`'s bundle (from `cachedData` when V8 accepts it) and starts it. Returns the script,
 * whose code cache then grows with every function the run compiles.
 */
export function runBundle(dir: string, cachedData: Buffer | undefined): Script {
  const filename = join(dir, BUNDLE_FILE);
  const script = new Script(readFileSync(filename, "utf8"), {
    filename,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const bundle = script.runInThisContext() as Bundle;
  const nodeRequire = createRequire(filename);
  bundle(nodeRequire, nodeRequire, pathToFileURL(filename).href);
  return script;
}
