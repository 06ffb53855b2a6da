import fs from "node:fs";
import path from "node:path";
import type { Owner } from "./files.js";

/** The repository's git folder (worktrees and submodules have a `.git` file pointing at it). */
/** Reads a file, or undefined when it cannot be read. Synchronous: see src/outputs/files.ts. */
const readIfAny = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

function findGitDir(start: string): { root: string; gitDir: string } | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, ".git");
    const stat = fs.statSync(dotGit, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return { root: dir, gitDir: dotGit };
    if (stat?.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readIfAny(dotGit) ?? "")?.[1]?.trim();
      if (pointer) {
        const gitDir = path.resolve(dir, pointer);
        // A linked worktree keeps info/exclude in the main repository's folder.
        const common = readIfAny(path.join(gitDir, "commondir"));
        return { root: dir, gitDir: common ? path.resolve(gitDir, common.trim()) : gitDir };
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Adds OUTPUT_DIR to `.git/info/exclude` so that `git add -A` in a later command (a release step,
 * a commit of generated files) never picks up credentials. Returns the pattern it added, if any.
 */
export function excludeFromGit(cwd: string, outputDir: string, owner: Owner | undefined): string | undefined {
  const repo = findGitDir(cwd);
  if (repo === undefined) return undefined;
  const relative = path.relative(repo.root, outputDir).split(path.sep).join("/");
  if (relative === "" || relative.startsWith("..")) return undefined;
  const pattern = `/${relative}/`;
  const excludeFile = path.join(repo.gitDir, "info", "exclude");
  const current = readIfAny(excludeFile) ?? "";
  if (current.split(/\r?\n/).some((line) => line.trim() === pattern)) return undefined;
  fs.mkdirSync(path.dirname(excludeFile), { recursive: true });
  const separator = current === "" || current.endsWith("\n") ? "" : "\n";
  fs.appendFileSync(excludeFile, `${separator}# credentials written by bitbucket-aws-oidc\n${pattern}\n`);
  if (owner && current === "") {
    try {
      fs.chownSync(excludeFile, owner.uid, owner.gid);
    } catch {
      // Left to root: git still reads it.
    }
  }
  return pattern;
}
