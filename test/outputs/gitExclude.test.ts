import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { excludeFromGit } from "../../src/outputs/gitExclude.ts";
import { useTempDir } from "../support/tempDir.ts";

/**
 * OUTPUT_DIR in `.git/info/exclude` (src/outputs/gitExclude.ts): only in a checkout whose `.git` is
 * a real folder inside the clone dir, never through a link, each pattern once.
 */

const temp = useTempDir("bb-exclude-");
/** A clone dir with a real .git folder (no git needed: the pipe only looks at the files). */
function checkout(): string {
  const clone = temp();
  mkdirSync(path.join(clone, ".git"));
  return clone;
}
const excludeOf = (clone: string) => readFileSync(path.join(clone, ".git/info/exclude"), "utf8");

describe("excludeFromGit", () => {
  it("adds /<OUTPUT_DIR>/ once, creating .git/info and the file when missing", () => {
    const clone = checkout();
    const out = path.join(clone, ".aws-oidc");
    expect(excludeFromGit(clone, out, undefined, clone)).toEqual({ added: "/.aws-oidc/" });
    expect(excludeOf(clone)).toBe("# credentials written by bitbucket-aws-oidc\n/.aws-oidc/\n");
    expect(statSync(path.join(clone, ".git/info/exclude")).mode & 0o777).toBe(0o644);
    expect(excludeFromGit(clone, out, undefined, clone)).toEqual({ already: "/.aws-oidc/" });
    expect(excludeOf(clone)).toBe("# credentials written by bitbucket-aws-oidc\n/.aws-oidc/\n");
  });

  it("appends to an existing file, on a line of its own", () => {
    const clone = checkout();
    mkdirSync(path.join(clone, ".git/info"));
    writeFileSync(path.join(clone, ".git/info/exclude"), "*.log");
    expect(excludeFromGit(clone, path.join(clone, "build/creds"), undefined, clone)).toEqual({
      added: "/build/creds/",
    });
    expect(excludeOf(clone)).toBe("*.log\n# credentials written by bitbucket-aws-oidc\n/build/creds/\n");
  });

  it("finds the checkout above the working directory, but never above the clone dir", () => {
    const clone = checkout();
    const app = path.join(clone, "app");
    mkdirSync(app);
    expect(excludeFromGit(app, path.join(app, ".aws-oidc"), undefined, clone)).toEqual({
      added: "/app/.aws-oidc/",
    });
    const inner = path.join(clone, "inner");
    mkdirSync(inner);
    expect(excludeFromGit(inner, path.join(inner, "o"), undefined, inner)).toBeUndefined();
  });

  it("nothing to do outside a checkout, or for a folder outside it", () => {
    const dir = temp();
    expect(excludeFromGit(dir, path.join(dir, "o"), undefined, dir)).toBeUndefined();
    const clone = checkout();
    expect(excludeFromGit(clone, clone, undefined, clone)).toBeUndefined();
    expect(excludeFromGit(clone, path.dirname(clone), undefined, clone)).toBeUndefined();
  });

  it("leaves a .git file (a gitdir: pointer) alone", () => {
    const clone = temp();
    writeFileSync(path.join(clone, ".git"), "gitdir: /elsewhere/.git\n");
    expect(excludeFromGit(clone, path.join(clone, "o"), undefined, clone)).toEqual({
      leftAlone: ".git is a file (a gitdir: pointer), not a folder",
    });
  });

  it("never writes through a link: .git, .git/info or the exclude file", () => {
    const elsewhere = path.join(temp(), "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, "target"), "");
    const linked = (make: (clone: string) => void) => {
      const clone = path.join(temp(), `c${Math.random().toString(36).slice(2)}`);
      mkdirSync(clone);
      make(clone);
      return excludeFromGit(clone, path.join(clone, "o"), undefined, clone);
    };
    expect(linked((c) => symlinkSync(elsewhere, path.join(c, ".git")))).toEqual({
      leftAlone: ".git is a symbolic link",
    });
    expect(
      linked((c) => {
        mkdirSync(path.join(c, ".git"));
        symlinkSync(elsewhere, path.join(c, ".git/info"));
      }),
    ).toEqual({ leftAlone: ".git/info is a symbolic link" });
    expect(
      linked((c) => {
        mkdirSync(path.join(c, ".git/info"), { recursive: true });
        symlinkSync(path.join(elsewhere, "target"), path.join(c, ".git/info/exclude"));
      }),
    ).toEqual({ leftAlone: ".git/info/exclude is a symbolic link" });
    expect(readFileSync(path.join(elsewhere, "target"), "utf8")).toBe("");
  });
});
