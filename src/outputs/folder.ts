import fs, { type Stats } from "node:fs";
import path from "node:path";
import { inputError } from "../errors.js";

/**
 * OUTPUT_DIR itself: which names the pipe may write in it, whether the folder is safe to write in
 * (no symlink, inside the clone directory), and what a failure removes. outputs/files.ts writes.
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

/**
 * Every temporary file starts with this, in OUTPUT_DIR or its `docker/` folder: a run killed
 * mid-write leaves one holding a token, and the next run (whatever its outcome) removes it.
 */
export const TEMP_PREFIX = ".bitbucket-aws-oidc-tmp-";
/** Temporary names of versions before TEMP_PREFIX (`.<file>.<pid>.<ms>.tmp`): removed as well. */
const OLD_TEMP = /^\.[\w.-]{1,40}\.\d{1,10}\.\d{1,16}\.tmp$/;

/** A path's own status (a link is not followed), or undefined when nothing is there. */
export const lstatOrUndefined = (target: string): Stats | undefined => {
  try {
    return fs.lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};

/** The refusal of a symlink where the pipe would write (exit 2). */
export const unsafe = (what: string, target: string) =>
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
export function checkOutputDir(outputDir: string, cloneDir: string | undefined): void {
  const dirStat = checkOutputFolder(outputDir, cloneDir);
  if (dirStat === undefined) return;
  for (const name of OUTPUT_FILES) {
    const fileStat = lstatOrUndefined(path.join(outputDir, name));
    if (fileStat?.isSymbolicLink()) throw unsafe("the file", path.join(outputDir, name));
  }
  const dockerDir = lstatOrUndefined(path.join(outputDir, "docker"));
  if (dockerDir?.isSymbolicLink()) throw unsafe("the folder", path.join(outputDir, "docker"));
}

/** The folder alone: not a symlink, not a file, and really inside the clone directory. */
export function checkOutputFolder(outputDir: string, cloneDir: string | undefined): Stats | undefined {
  const dirStat = lstatOrUndefined(outputDir);
  if (dirStat?.isSymbolicLink()) throw unsafe("the folder", outputDir);
  if (dirStat !== undefined && !dirStat.isDirectory()) {
    throw inputError(`OUTPUT_DIR: ${outputDir} exists and is not a folder.`, {
      fix: "Choose another OUTPUT_DIR or remove that file.",
    });
  }
  if (cloneDir !== undefined) {
    let existing = outputDir;
    while (lstatOrUndefined(existing) === undefined && path.dirname(existing) !== existing) {
      existing = path.dirname(existing);
    }
    const real = fs.realpathSync(existing);
    let realClone: string;
    try {
      realClone = fs.realpathSync(cloneDir);
    } catch {
      realClone = path.resolve(cloneDir);
    }
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

/**
 * Removes every file the pipe writes (this run's or an earlier one's), so that a later `source`
 * never picks up stale or half-written credentials. Never follows a symlinked folder.
 */
export function removeOutputFiles(outputDir: string, cloneDir: string | undefined): string[] {
  let dirStat: Stats | undefined;
  try {
    dirStat = checkOutputFolder(outputDir, cloneDir);
  } catch {
    return [];
  }
  if (!dirStat?.isDirectory()) return [];
  const removed = removeTemporaryFiles(outputDir);
  for (const name of OUTPUT_FILES) {
    const target = path.join(outputDir, name);
    if (name.includes("/")) {
      let parent: Stats | undefined;
      try {
        parent = lstatOrUndefined(path.dirname(target));
      } catch {
        continue;
      }
      if (!parent?.isDirectory()) continue;
    }
    try {
      fs.unlinkSync(target);
      removed.push(name);
    } catch {
      // Absent already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}

/** Temporary files of any earlier run, in OUTPUT_DIR and its `docker/` folder (never followed if a link). */
function removeTemporaryFiles(outputDir: string): string[] {
  const removed: string[] = [];
  for (const folder of [outputDir, path.join(outputDir, "docker")]) {
    let names: string[];
    try {
      if (!lstatOrUndefined(folder)?.isDirectory()) continue;
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX) && !OLD_TEMP.test(name)) continue;
      try {
        // unlink removes a link itself, never what it points at.
        fs.unlinkSync(path.join(folder, name));
        removed.push(path.relative(outputDir, path.join(folder, name)));
      } catch {
        // A folder by that name, or gone already: not a credential file to worry about.
      }
    }
  }
  return removed;
}
