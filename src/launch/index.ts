// The program's entry (dist/index.js, CommonJS): the bundle beside it, with a code cache: the one
// the image's build trained, else, for a pipe run where NODE_COMPILE_CACHE asks for one, the
// user's own (userCache.ts).
import { readCodeCache, runBundle } from "./bundle.js";
import { readUserCodeCache, userCodeCacheFile, writeUserCodeCache } from "./userCache.js";

function launch(): void {
  const trained = readCodeCache(__dirname);
  const uid = process.getuid?.();
  // Only a pipe run (no command) reads or makes the user's cache: `--version`'s would hold little.
  if (trained !== undefined || uid === undefined || process.argv.length > 2) {
    runBundle(__dirname, trained);
    return;
  }
  const file = userCodeCacheFile(process.env, BUNDLE_HASH, process);
  const cachedData = file === undefined ? undefined : readUserCodeCache(file, uid);
  const script = runBundle(__dirname, cachedData);
  if (file !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    process.on("exit", (status) => {
      if (status === 0) writeUserCodeCache(file, script.createCachedData(), uid);
    });
  }
}

launch();
