import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

/**
 * Runs outside the image (`npx`, a global install on a shell runner) find no trained code cache
 * beside the bundle. Where the user asks Node to cache compiled code (`NODE_COMPILE_CACHE`, and not
 * `NODE_DISABLE_COMPILE_CACHE=1`), the first pipe run that succeeds makes one in that folder for
 * the runs after it, named after the bundle's content and the Node that made it. Otherwise nothing
 * is written: no write of the pipe lands outside OUTPUT_DIR unless the user asked for it.
 *
 * A code cache is code Node runs, and a shell runner's folders may be shared: a cache is read only
 * from a folder and a file that belong to this user and that no one else can write, and written
 * only into such a folder. Anything else means no cache, silently: it only saves time.
 */
export function userCodeCacheFile(
  env: NodeJS.ProcessEnv,
  bundleHash: string,
  node: { version: string; arch: string },
): string | undefined {
  const dir = env.NODE_COMPILE_CACHE;
  if (!dir || env.NODE_DISABLE_COMPILE_CACHE === "1") return undefined;
  return join(dir, `bitbucket-aws-oidc-${bundleHash}-${node.version}-${node.arch}.code-cache`);
}

/** This user's, and writable by no one else (no group or other write bit). */
const isPrivate = (stats: Stats, uid: number) => stats.uid === uid && (stats.mode & 0o022) === 0;

/** The cache in `file`, or undefined unless the file and its folder are `uid`'s alone. */
export function readUserCodeCache(file: string, uid: number): Buffer | undefined {
  try {
    if (!isPrivate(statSync(dirname(file)), uid)) return undefined;
    // Not through a symbolic link, and checked on the file that is read.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stats = fstatSync(fd);
      return stats.isFile() && isPrivate(stats, uid) ? readFileSync(fd) : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to `file` (0600) in a folder that is `uid`'s alone, made 0700 when missing; through
 * a new file renamed into place, so that a run never reads half a cache.
 */
export function writeUserCodeCache(file: string, data: Buffer, uid: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (!isPrivate(statSync(dirname(file)), uid)) return;
    writeFileSync(temporary, data, { mode: 0o600, flag: "wx" });
    renameSync(temporary, file);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Left for the next run's `wx` to refuse; the cache only saves time.
    }
  }
}
