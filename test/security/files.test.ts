import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inStepShell, runStep } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * Files (issue 15, items 4-6): nothing written or created outside the clone dir through
 * `.git` links, no temporary file a killed run left behind survives a later run, and every
 * folder the pipe creates is the clone dir owner's, as a non-root build image needs.
 */

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const pipe = (variables: Record<string, string | undefined> = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables });

/** A folder outside the clone dir, standing for the runner's host. */
let outside: string;
beforeEach(() => {
  outside = mkdtempSync(path.join(tmpdir(), "bb-outside-"));
});
afterEach(() => rmSync(outside, { recursive: true, force: true }));

/** Every path under a folder, for "nothing was created or changed there". */
const snapshot = (dir: string): Record<string, string> => {
  const seen: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    seen[path.relative(dir, full)] = entry.isFile() ? readFileSync(full, "utf8") : "(folder)";
  }
  return seen;
};

const LEFT_ALONE = /^INFO: Left \.git\/info\/exclude alone \((.+)\)/m;

describe(".git/info/exclude never leads outside the clone dir", () => {
  const cases: Array<[string, () => void, RegExp]> = [
    [
      "a symlinked .git",
      () => {
        mkdirSync(path.join(outside, "info"));
        writeFileSync(path.join(outside, "info", "exclude"), "# the host's\n");
        rmSync(path.join(clone.dir, ".git"), { recursive: true });
        symlinkSync(outside, path.join(clone.dir, ".git"));
      },
      /\.git is a symbolic link/,
    ],
    [
      "a symlinked .git/info",
      () => {
        rmSync(path.join(clone.dir, ".git", "info"), { recursive: true, force: true });
        symlinkSync(outside, path.join(clone.dir, ".git", "info"));
      },
      /\.git\/info is a symbolic link/,
    ],
    [
      "a symlinked exclude",
      () => {
        writeFileSync(path.join(outside, "exclude"), "# the host's\n");
        rmSync(path.join(clone.dir, ".git", "info", "exclude"), { force: true });
        mkdirSync(path.join(clone.dir, ".git", "info"), { recursive: true });
        symlinkSync(path.join(outside, "exclude"), path.join(clone.dir, ".git", "info", "exclude"));
      },
      /exclude is a symbolic link/,
    ],
    [
      "a gitdir: file pointing elsewhere",
      () => {
        rmSync(path.join(clone.dir, ".git"), { recursive: true });
        writeFileSync(path.join(clone.dir, ".git"), `gitdir: ${path.join(outside, "repo.git")}\n`);
      },
      /gitdir/,
    ],
  ];
  for (const [name, arrange, why] of cases) {
    it(`${name}: left alone (one INFO line), nothing written or created outside`, async () => {
      arrange();
      const before = snapshot(outside);
      const { result } = await pipe();
      expect(result.status, result.output).toBe(0);
      expect(snapshot(outside)).toEqual(before);
      const lines = result.stdout.split("\n").filter((line) => LEFT_ALONE.test(line));
      expect(lines, result.output).toHaveLength(1);
      expect(lines[0]).toMatch(why);
    });
  }

  it("a real .git folder still gets the pattern", async () => {
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(path.join(clone.dir, ".git/info/exclude"), "utf8")).toMatch(/^\/\.aws-oidc\/$/m);
    expect(result.stdout).not.toMatch(LEFT_ALONE);
  });
});

describe("temporary files a killed run left behind", () => {
  const leftovers = () => {
    const out = path.join(clone.dir, ".aws-oidc");
    mkdirSync(path.join(out, "docker"), { recursive: true, mode: 0o700 });
    const files = [
      path.join(out, ".bitbucket-aws-oidc-tmp-web-identity-token.4242.1700000000000"),
      path.join(out, "docker", ".bitbucket-aws-oidc-tmp-config.json.4242.1700000000000"),
      // The name earlier versions used.
      path.join(out, ".npmrc.4242.1700000000000.tmp"),
    ];
    for (const file of files) writeFileSync(file, "a token from a killed run", { mode: 0o600 });
    return files;
  };

  it("are removed by a later successful run", async () => {
    const files = leftovers();
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    for (const file of files) expect(existsSync(file), file).toBe(false);
    expect(readdirSync(path.join(clone.dir, ".aws-oidc")).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("are removed by a later failed run", async () => {
    const files = leftovers();
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: "arn:aws:iam::111111111111:role/not-trusting-this-repository",
    });
    expect(result.status, result.output).toBe(3);
    for (const file of files) expect(existsSync(file), file).toBe(false);
  });
});

describe("folders the pipe creates for OUTPUT_DIR", () => {
  const asRoot = process.getuid?.() === 0;

  it.skipIf(!asRoot)(
    "build/creds as root: both folders 0700 and the clone dir owner's, and that owner reads env",
    async () => {
      const uid = 1000;
      const gid = 1000;
      for (const entry of [
        clone.dir,
        ...Object.keys(snapshot(clone.dir)).map((p) => path.join(clone.dir, p)),
      ]) {
        chownSync(entry, uid, gid);
      }
      const { result } = await pipe({ OUTPUT_DIR: "build/creds" });
      expect(result.status, result.output).toBe(0);
      for (const folder of ["build", "build/creds"]) {
        const stat = statSync(path.join(clone.dir, folder));
        expect([stat.mode & 0o777, stat.uid, stat.gid], folder).toEqual([0o700, uid, gid]);
      }
      const read = await inStepShell(
        "sh",
        clone.dir,
        'test -r "$AWS_WEB_IDENTITY_TOKEN_FILE" && test -n "$AWS_SECRET_ACCESS_KEY" && id -u',
        {},
        { outputDir: "build/creds", uid, gid },
      );
      expect(read.status, read.output).toBe(0);
      expect(read.stdout.trim()).toBe(String(uid));
    },
  );
});
