import module from "node:module";
import v8 from "node:v8";
import type { ErrorKind } from "./errors.js";

/** The only place that knows exit statuses (CONTRACT.md, "Exit status and messages"). */
const EXIT_STATUS: Record<ErrorKind, number> = { input: 2, refused: 3, transient: 4, internal: 1 };

type CompileCache = {
  enableCompileCache?: () => { status: number };
  constants?: { compileCacheStatus?: Record<string, number> };
};

// Before the rest is loaded: on Node >= 22 compiled code is cached (NODE_COMPILE_CACHE, filled when
// the image is built), which saves most of the time Node spends compiling the bundle on every run.
const { enableCompileCache, constants } = module as unknown as CompileCache;
const cacheStatus = enableCompileCache?.().status;
const caching =
  cacheStatus !== undefined &&
  (cacheStatus === constants?.compileCacheStatus?.ENABLED ||
    cacheStatus === constants?.compileCacheStatus?.ALREADY_ENABLED);

// V8 compiles a function when it is first called, and Node writes a module's cache right after
// compiling the module: on its own, the cache holds little more than top-level code, and every
// function a run calls is compiled again on every run. Compiled eagerly, the whole command graph
// goes into the cache (measured on Node 24: about 10 ms of a 120 ms run). Only while that graph
// is compiled: the first chunk to run switches lazy compilation back on (tsup.config.ts, banner),
// before any Node builtin loads, since their own code caches were made with V8's default flags.
if (caching) v8.setFlagsFromString("--no-lazy");
let kind: ErrorKind | undefined;
try {
  const { main } = await import("./cli.js");
  kind = await main(process.argv.slice(2), process.env, process.cwd());
} finally {
  v8.setFlagsFromString("--lazy");
}
process.exitCode = kind === undefined ? 0 : EXIT_STATUS[kind];
