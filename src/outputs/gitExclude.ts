import { promises as fs } from "node:fs";
import path from "node:path";
import type { Owner } from "./files.js";

/** The repository's git folder (worktrees and submodules have a `.git` file pointing at it). */
async function findGitDir(start: string): Promise<{ root: string; gitDir: string } | undefined> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, ".git");
    const stat = await fs.stat(dotGit).catch(() => undefined);
    if (stat?.isDirectory()) return { root: dir, gitDir: dotGit };
    if (stat?.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(await fs.readFile(dotGit, "utf8"))?.[1]?.trim();
      if (pointer) {
        const gitDir = path.resolve(dir, pointer);
        // A linked worktree keeps info/exclude in the main repository's folder.
        const common = await fs.readFile(path.join(gitDir, "commondir"), "utf8").catch(() => undefined);
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
export async function excludeFromGit(
  cwd: string,
  outputDir: string,
  owner: Owner | undefined,
): Promise<string | undefined> {
  const repo = await findGitDir(cwd);
  if (repo === undefined) return undefined;
  const relative = path.relative(repo.root, outputDir).split(path.sep).join("/");
  if (relative === "" || relative.startsWith("..")) return undefined;
  const pattern = `/${relative}/`;
  const excludeFile = path.join(repo.gitDir, "info", "exclude");
  const current = await fs.readFile(excludeFile, "utf8").catch(() => "");
  if (current.split(/\r?\n/).some((line) => line.trim() === pattern)) return undefined;
  await fs.mkdir(path.dirname(excludeFile), { recursive: true });
  const separator = current === "" || current.endsWith("\n") ? "" : "\n";
  await fs.appendFile(excludeFile, `${separator}# credentials written by bitbucket-aws-oidc\n${pattern}\n`);
  if (owner && current === "") await fs.chown(excludeFile, owner.uid, owner.gid).catch(() => {});
  return pattern;
}
