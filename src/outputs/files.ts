import fs, { constants } from "node:fs";
import path from "node:path";
import { internalError } from "../errors.js";
import { lstatOrUndefined, type OUTPUT_FILES, TEMP_PREFIX, unsafe } from "./folder.js";

/**
 * Safe file writing for credential files: a 0700 folder, 0600 files written to a temporary name
 * and renamed into place, never through a symlink, chowned to the clone directory's owner when we
 * run as root (Bitbucket runs pipes as root; the build container often is not).
 *
 * Synchronous on purpose: a run makes some fifty of these calls one after another, with nothing to
 * overlap them with, and each costs about 10 µs this way against 100-150 µs through the thread pool
 * (measured: about 9 ms of a 110 ms run).
 */

export interface OutputFile {
  /** Relative to OUTPUT_DIR; one of OUTPUT_FILES. */
  name: (typeof OUTPUT_FILES)[number];
  content: string;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** The owner of the clone directory, when we run as root and it belongs to someone else. */
export function ownerToGive(cloneDir: string | undefined): Owner | undefined {
  if (cloneDir === undefined || process.getuid?.() !== 0) return undefined;
  try {
    const stat = fs.statSync(cloneDir);
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

/**
 * The folder and every missing folder above it, each created 0700 and owned like the files (the
 * contract's "every folder the pipe creates"): `OUTPUT_DIR: build/creds` must not leave `build/`
 * to root, or a non-root build image cannot reach `creds/env`. Folders that already existed above
 * it are not the pipe's and keep their mode and owner.
 */
function ensureDir(dir: string, owner: Owner | undefined): void {
  try {
    const missing: string[] = [];
    for (let at = dir; lstatOrUndefined(at) === undefined && path.dirname(at) !== at; at = path.dirname(at)) {
      missing.unshift(at);
    }
    for (const folder of missing) {
      fs.mkdirSync(folder, { mode: 0o700 });
      fs.chmodSync(folder, 0o700);
      if (owner) fs.lchownSync(folder, owner.uid, owner.gid);
    }
    const stat = fs.lstatSync(dir);
    if (stat.isSymbolicLink() || !stat.isDirectory()) throw unsafe("the folder", dir);
    fs.chmodSync(dir, 0o700);
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  } catch (error) {
    if ((error as { kind?: string }).kind !== undefined) throw error;
    throw writeFailed(dir, error);
  }
}

/**
 * A fresh 0600 file (O_EXCL|O_NOFOLLOW) under a TEMP_PREFIX name beside `target`, holding
 * `content`, owned like the outputs. Returns its path.
 */
function writeTemporary(target: string, content: string, owner: Owner | undefined): string {
  const temporary = path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${path.basename(target)}.${process.pid}.${Date.now()}`,
  );
  let fd: number | undefined;
  try {
    fd = fs.openSync(
      temporary,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    fs.writeFileSync(fd, content, "utf8");
    fs.fchmodSync(fd, 0o600);
    if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
    fs.closeSync(fd);
    return temporary;
  } catch (error) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
    } catch {
      // The write's own error is the one to report.
    }
    throw writeFailed(target, error);
  }
}

/** One file, atomically: a temporary file, then rename over the target. */
function writeAtomic(target: string, content: string, owner: Owner | undefined): void {
  const existing = lstatOrUndefined(target);
  if (existing?.isSymbolicLink()) throw unsafe("the file", target);
  const temporary = writeTemporary(target, content, owner);
  try {
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw writeFailed(target, error);
  }
}

/**
 * Files staged for the proofs (contract: "Files"): written under TEMP_PREFIX names in OUTPUT_DIR,
 * where the AWS SDK's credential providers read them as a later SDK in the step will read the
 * final ones. They never become outputs themselves: `discard` removes them, and any later run
 * removes what a killed one left.
 */
export interface Staging {
  /** Writes `content` staged for `name`; returns the staged file's path. */
  stage(name: OutputFile["name"], content: string): string;
  discard(): void;
}

export function createStaging(outputDir: string, owner: Owner | undefined): Staging {
  const staged: string[] = [];
  return {
    stage(name, content) {
      ensureDir(outputDir, owner);
      const file = writeTemporary(path.join(outputDir, name), content, owner);
      staged.push(file);
      return file;
    },
    discard() {
      for (const file of staged.splice(0)) fs.rmSync(file, { force: true });
    },
  };
}

export function writeOutputFiles(
  outputDir: string,
  files: readonly OutputFile[],
  owner: Owner | undefined,
): void {
  ensureDir(outputDir, owner);
  for (const file of files) {
    const target = path.join(outputDir, file.name);
    if (path.dirname(target) !== outputDir) ensureDir(path.dirname(target), owner);
    writeAtomic(target, file.content, owner);
  }
}
