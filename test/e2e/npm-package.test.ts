/**
 * The npm package as a shell runner gets it, proven from the artifact: the committed tree (HEAD,
 * exported with `git archive`, so nothing the work tree holds besides it, not even a built dist/),
 * packed with `npm pack` (whose `prepack` must build dist/), installed from the tarball into an
 * empty folder with nothing to fetch, and its installed bin run as a step runs it, against the
 * local AWS world: exit 0 and an `env` file that bash sources.
 *
 * The export reuses this checkout's node_modules through a symlink (the build needs tsup and
 * the bundled libraries; installing them again would cost minutes).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, type Finished, ROOT, run, stepEnv } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
};

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

let work: string;
let tarball: string;
let packed: Packed;
let bin: string;

const ok = (result: Finished, what: string) => {
  if (result.status !== 0) throw new Error(`${what} failed (status ${result.status}):\n${result.output}`);
  return result;
};

/** npm with none of the calling npm's settings (npm test sets npm_config_*), and no prompts. */
const npmEnv = (extra: Record<string, string> = {}) =>
  baseEnv({
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  });

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "bb-npm-package-"));
  const tree = path.join(work, "tree");
  const out = path.join(work, "out");
  const app = path.join(work, "app");
  await Promise.all([mkdir(tree), mkdir(out), mkdir(app)]);

  // The committed tree, and only it.
  const archive = path.join(work, "head.tar");
  ok(
    await run("git", ["archive", "--format=tar", "-o", archive, "HEAD"], { env: baseEnv(), cwd: ROOT }),
    "git archive HEAD",
  );
  ok(await run("tar", ["-xf", archive, "-C", tree], { env: baseEnv(), cwd: work }), "tar -x");
  expect(existsSync(path.join(tree, "dist")), "HEAD must not hold a built dist/").toBe(false);
  await symlink(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");

  const pack = ok(
    await run("npm", ["pack", "--json", "--pack-destination", out], { env: npmEnv(), cwd: tree }),
    "npm pack",
  );
  // prepack's own output (the build's log) comes before the JSON on stdout.
  const json = pack.stdout.slice(pack.stdout.indexOf("[\n"));
  [packed] = JSON.parse(json) as [Packed];
  tarball = path.join(out, packed.filename);

  // An empty folder; offline: the package must need nothing from a registry.
  ok(
    await run(
      "npm",
      ["install", "--offline", "--no-save", "--no-package-lock", "--ignore-scripts", tarball],
      { env: npmEnv({ npm_config_cache: path.join(work, "npm-cache") }), cwd: app },
    ),
    "npm install of the tarball",
  );
  bin = path.join(app, "node_modules/.bin/bitbucket-aws-oidc");
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the built program, the docs and the license, not the sources or the tests", () => {
    expect(packed.filename).toBe(`bitbucket-aws-oidc-${version}.tgz`);
    const files = packed.files.map((f) => f.path);
    for (const file of [
      "package.json",
      "dist/index.js",
      "dist/bundle.js",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "SECURITY.md",
      "pipe.yml",
    ])
      expect(files).toContain(file);
    expect(files.some((f) => f.startsWith("docs/") && f.endsWith(".md"))).toBe(true);
    expect(files.filter((f) => /^(src|test|bench|node_modules|\.ci)\//.test(f))).toEqual([]);
    // A code cache is one V8 version's: the image's build makes its own, a package carries none.
    expect(files).not.toContain("dist/bundle.code-cache");
  });

  it("declares no runtime dependencies (dist/ holds everything it runs) and the links users follow", () => {
    const pkg = JSON.parse(
      readFileSync(path.join(path.dirname(bin), "../bitbucket-aws-oidc/package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.version).toBe(version);
    expect(pkg.repository).toBeDefined();
    expect(pkg.bugs).toBeDefined();
    expect(pkg.homepage).toBeDefined();
  });

  it("installs a bin that answers --version", async () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const result = await run(bin, ["--version"], { env: baseEnv(), cwd: work });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it("runs a step end to end from the installed bin: exit 0, and an env file bash sources", async () => {
    const { env } = await stepEnv(world, clone.dir, { AWS_ROLE_ARN: roleArn });
    const result = await run(bin, [], { env, cwd: clone.dir });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => r.action)).toContain("AssumeRoleWithWebIdentity");
    expect(await readdir(path.join(clone.dir, ".aws-oidc"))).toContain("env");

    const shell = await run(
      "bash",
      [
        "-c",
        '. ./.aws-oidc/env && printf "%s\\n%s\\n%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_ROLE_ARN" "$AWS_REGION"',
      ],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, cwd: clone.dir },
    );
    expect(shell.status, shell.output).toBe(0);
    const [keyId, sourcedRole, region] = shell.stdout.split("\n");
    const session = [...world.sessions.values()].find((s) => s.accessKeyId === keyId);
    expect(session?.roleArn).toBe(roleArn);
    expect(sourcedRole).toBe(roleArn);
    expect(region).toBe("ap-southeast-2");
  });
});
