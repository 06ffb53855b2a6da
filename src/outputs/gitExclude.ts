import fs, { constants } from "node:fs";
import path from "node:path";
import type { Owner } from "./files.js";

/**
 * Adds OUTPUT_DIR to `.git/info/exclude` so that `git add -A` in a later command (a release step,
 * a commit of generated files) never picks up credentials. Only in a checkout whose `.git` is a
 * real folder inside the clone dir, and never through a symlink: a link or a `gitdir:` file
 * could point anywhere, and no write of the pipe may land outside the clone dir.
 */
export type ExcludeResult = { added: string } | { leftAlone: string } | { already: string } | undefined;

const lstat = (target: string) => fs.lstatSync(target, { throwIfNoEntry: false });

/** The checkout holding `start`, looked for no higher than the clone dir. */
function findCheckout(start: string, cloneDir: string | undefined): string | undefined {
  const top = cloneDir === undefined ? undefined : path.resolve(cloneDir);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (lstat(path.join(dir, ".git")) !== undefined) return dir;
    if (dir === top || path.dirname(dir) === dir) return undefined;
  }
}

export function excludeFromGit(
  cwd: string,
  outputDir: string,
  owner: Owner | undefined,
  cloneDir: string | undefined,
): ExcludeResult {
  const root = findCheckout(cwd, cloneDir);
  if (root === undefined) return undefined;
  const relative = path.relative(root, outputDir).split(path.sep).join("/");
  if (relative === "" || relative.startsWith("..")) return undefined;
  const pattern = `/${relative}/`;
  const gitDir = path.join(root, ".git");
  const gitStat = lstat(gitDir);
  if (gitStat?.isSymbolicLink()) return { leftAlone: ".git is a symbolic link" };
  if (!gitStat?.isDirectory()) return { leftAlone: ".git is a file (a gitdir: pointer), not a folder" };
  const infoDir = path.join(gitDir, "info");
  const infoStat = lstat(infoDir);
  if (infoStat?.isSymbolicLink()) return { leftAlone: ".git/info is a symbolic link" };
  if (infoStat !== undefined && !infoStat.isDirectory()) return { leftAlone: ".git/info is not a folder" };
  const excludeFile = path.join(infoDir, "exclude");
  const excludeStat = lstat(excludeFile);
  if (excludeStat?.isSymbolicLink()) return { leftAlone: ".git/info/exclude is a symbolic link" };
  if (excludeStat !== undefined && !excludeStat.isFile()) {
    return { leftAlone: ".git/info/exclude is not a regular file" };
  }
  const current = excludeStat === undefined ? "" : fs.readFileSync(excludeFile, "utf8");
  if (current.split(/\r?\n/).some((line) => line.trim() === pattern)) return { already: pattern };

  if (infoStat === undefined) {
    // Not recursive: its parent is the real .git folder checked above.
    fs.mkdirSync(infoDir, { mode: 0o755 });
    if (owner) chownQuietly(infoDir, owner);
  }
  // O_NOFOLLOW: a link swapped in after the checks above is refused, not followed.
  const fd = fs.openSync(
    excludeFile,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    const separator = current === "" || current.endsWith("\n") ? "" : "\n";
    fs.writeSync(fd, `${separator}# credentials written by bitbucket-aws-oidc\n${pattern}\n`);
    if (owner && excludeStat === undefined) {
      try {
        fs.fchownSync(fd, owner.uid, owner.gid);
      } catch {
        // Left to root: git still reads it.
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { added: pattern };
}

function chownQuietly(target: string, owner: Owner): void {
  try {
    fs.lchownSync(target, owner.uid, owner.gid);
  } catch {
    // Left to root: git still reads it.
  }
}
