import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { inputError, internalError } from "../errors.js";

/**
 * Safe file writing for credential files: a 0700 folder, 0600 files written to a temporary name
 * and renamed into place, never through a symlink, chowned to the clone directory's owner when we
 * run as root (Bitbucket runs pipes as root; the build container often is not).
 */

/** Every file the pipe may write, relative to OUTPUT_DIR: removed on failure, whichever feature wrote it. */
export const OUTPUT_FILES = [
  "env",
  "docker.env",
  "web-identity-token",
  "outputs.json",
  "aws-config",
  "aws-credentials",
  "npmrc",
  "maven-settings.xml",
  "nuget.config",
  "docker/config.json",
] as const;

export interface OutputFile {
  /** Relative to OUTPUT_DIR; one of OUTPUT_FILES. */
  name: (typeof OUTPUT_FILES)[number];
  content: string;
}

export interface Owner {
  uid: number;
  gid: number;
}

const lstatOrUndefined = async (target: string) => {
  try {
    return await fs.lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

const unsafe = (what: string, target: string) =>
  inputError(
    `OUTPUT_DIR: ${what} ${target} is a symbolic link; the pipe never writes credentials through one.`,
    {
      fix: "Remove the link (or choose another OUTPUT_DIR) and run the step again.",
    },
  );

/**
 * Checks, before any request, that the folder and every file we would write are not symlinks, and
 * that the folder does not leave the clone directory through a symlinked parent.
 */
export async function checkOutputDir(outputDir: string, cloneDir: string | undefined): Promise<void> {
  const dirStat = await checkOutputFolder(outputDir, cloneDir);
  if (dirStat === undefined) return;
  for (const name of OUTPUT_FILES) {
    const fileStat = await lstatOrUndefined(path.join(outputDir, name));
    if (fileStat?.isSymbolicLink()) throw unsafe("the file", path.join(outputDir, name));
  }
  const dockerDir = await lstatOrUndefined(path.join(outputDir, "docker"));
  if (dockerDir?.isSymbolicLink()) throw unsafe("the folder", path.join(outputDir, "docker"));
}

/** The folder alone: not a symlink, not a file, and really inside the clone directory. */
export async function checkOutputFolder(outputDir: string, cloneDir: string | undefined) {
  const dirStat = await lstatOrUndefined(outputDir);
  if (dirStat?.isSymbolicLink()) throw unsafe("the folder", outputDir);
  if (dirStat !== undefined && !dirStat.isDirectory()) {
    throw inputError(`OUTPUT_DIR: ${outputDir} exists and is not a folder.`, {
      fix: "Choose another OUTPUT_DIR or remove that file.",
    });
  }
  if (cloneDir !== undefined) {
    let existing = outputDir;
    while ((await lstatOrUndefined(existing)) === undefined && path.dirname(existing) !== existing) {
      existing = path.dirname(existing);
    }
    const real = await fs.realpath(existing);
    const realClone = await fs.realpath(cloneDir).catch(() => path.resolve(cloneDir));
    const relative = path.relative(realClone, real);
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
      throw inputError(
        `OUTPUT_DIR: ${outputDir} leads outside BITBUCKET_CLONE_DIR (${realClone}) through a symbolic link.`,
        { fix: "Choose an OUTPUT_DIR inside the clone directory with no symlinked parent." },
      );
    }
  }
  return dirStat;
}

/** The owner of the clone directory, when we run as root and it belongs to someone else. */
export async function ownerToGive(cloneDir: string | undefined): Promise<Owner | undefined> {
  if (cloneDir === undefined || process.getuid?.() !== 0) return undefined;
  try {
    const stat = await fs.stat(cloneDir);
    return stat.uid === 0 && stat.gid === 0 ? undefined : { uid: stat.uid, gid: stat.gid };
  } catch {
    return undefined;
  }
}

const writeFailed = (target: string, error: unknown) =>
  internalError(`Could not write ${target}: ${(error as Error).message}.`, {
    fix: "Check that the folder is writable and the disk is not full, then run the step again.",
    cause: error,
  });

async function ensureDir(dir: string, owner: Owner | undefined): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const stat = await fs.lstat(dir);
    if (stat.isSymbolicLink() || !stat.isDirectory()) throw unsafe("the folder", dir);
    await fs.chmod(dir, 0o700);
    if (owner) await fs.chown(dir, owner.uid, owner.gid);
  } catch (error) {
    if ((error as { kind?: string }).kind !== undefined) throw error;
    throw writeFailed(dir, error);
  }
}

/** One file, atomically: a fresh 0600 temporary file (O_EXCL|O_NOFOLLOW), then rename over the target. */
async function writeAtomic(target: string, content: string, owner: Owner | undefined): Promise<void> {
  const existing = await lstatOrUndefined(target);
  if (existing?.isSymbolicLink()) throw unsafe("the file", target);
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`,
  );
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(
      temporary,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    await handle.writeFile(content, "utf8");
    await handle.chmod(0o600);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, target);
  } catch (error) {
    await handle?.close().catch(() => {});
    await fs.rm(temporary, { force: true }).catch(() => {});
    throw writeFailed(target, error);
  }
}

export async function writeOutputFiles(
  outputDir: string,
  files: readonly OutputFile[],
  owner: Owner | undefined,
): Promise<void> {
  await ensureDir(outputDir, owner);
  for (const file of files) {
    const target = path.join(outputDir, file.name);
    if (path.dirname(target) !== outputDir) await ensureDir(path.dirname(target), owner);
    await writeAtomic(target, file.content, owner);
  }
}

/**
 * Removes every file the pipe writes (this run's or an earlier one's), so that a later `source`
 * never picks up stale or half-written credentials. Never follows a symlinked folder.
 */
export async function removeOutputFiles(outputDir: string, cloneDir: string | undefined): Promise<string[]> {
  const dirStat = await checkOutputFolder(outputDir, cloneDir).catch(() => undefined);
  if (!dirStat?.isDirectory()) return [];
  const removed: string[] = [];
  for (const name of OUTPUT_FILES) {
    const target = path.join(outputDir, name);
    if (name.includes("/")) {
      const parent = await lstatOrUndefined(path.dirname(target)).catch(() => undefined);
      if (!parent?.isDirectory()) continue;
    }
    try {
      await fs.unlink(target);
      removed.push(name);
    } catch {
      // Absent already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}
