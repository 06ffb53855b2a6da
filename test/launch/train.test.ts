/**
 * The built program's launcher and its code cache (src/launch/): dist/train-code-cache.js makes the
 * cache as the image's build does, V8 accepts it, a pipe run starts from it, and neither a failed
 * training nor a cache V8 refuses breaks anything.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_FILE, CODE_CACHE_FILE } from "../../src/launch/bundle.ts";
import { baseEnv, makeCloneDir, ROOT, run, TEST_REPOSITORY } from "../support/pipe.ts";
import { useTempDir } from "../support/tempDir.ts";
import { startWorld, type World } from "../world/index.ts";

const BUILT = ["index.js", BUNDLE_FILE, "package.json", "train-code-cache.js"];

/** A copy of dist/ as built, with no code cache; and a TMPDIR of its own. */
function copyOfDist(dir: string): { dist: string; tmp: string } {
  const dist = path.join(dir, "dist");
  const tmp = path.join(dir, "tmp");
  mkdirSync(dist);
  mkdirSync(tmp);
  for (const name of BUILT) copyFileSync(path.join(ROOT, "dist", name), path.join(dist, name));
  return { dist, tmp };
}

/** Whether this Node's V8 accepts `dist`'s code cache for its bundle, compiled as the launcher compiles it. */
function accepted(dist: string): boolean {
  const check = `const fs = require("fs"), vm = require("vm");
const bundle = ${JSON.stringify(path.join(dist, BUNDLE_FILE))};
const cachedData = fs.readFileSync(${JSON.stringify(path.join(dist, CODE_CACHE_FILE))});
process.stdout.write(String(!new vm.Script(fs.readFileSync(bundle, "utf8"), { filename: bundle, cachedData }).cachedDataRejected));`;
  return execFileSync(process.execPath, ["-e", check], { encoding: "utf8" }) === "true";
}

describe("train-code-cache.js", () => {
  const dir = useTempDir("launch-");
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("writes a code cache V8 accepts, leaves nothing else, and a pipe run starts from it", async () => {
    const { dist, tmp } = copyOfDist(dir());
    const trained = await run(process.execPath, [path.join(dist, "train-code-cache.js")], {
      env: baseEnv({ TMPDIR: tmp }),
      cwd: dir(),
    });
    expect(trained.status, trained.output).toBe(0);
    expect(trained.stdout).toContain("✔ AWS credentials for arn:aws:sts::123456789012:assumed-role/");
    expect(trained.stderr).toMatch(/bundle\.code-cache written \(\d+ bytes\)/);
    expect(readdirSync(dist).sort()).toEqual([...BUILT, CODE_CACHE_FILE].sort());
    expect(readdirSync(tmp)).toEqual([]);
    expect(accepted(dist)).toBe(true);

    const clone = await makeCloneDir();
    try {
      const roleArn = world.allowRepository(TEST_REPOSITORY, { roleName: "deploy" });
      const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
      const result = await run(process.execPath, [path.join(dist, "index.js")], {
        env: baseEnv({
          BITBUCKET_STEP_OIDC_TOKEN: token,
          BITBUCKET_CLONE_DIR: clone.dir,
          AWS_ROLE_ARN: roleArn,
          AWS_REGION: "eu-west-1",
          AWS_ENDPOINT_URL: world.endpoint,
        }),
        cwd: clone.dir,
      });
      expect(result.status, result.output).toBe(0);
      expect(result.stdout).toContain("Verified with sts:GetCallerIdentity");
      expect(existsSync(path.join(clone.dir, ".aws-oidc/env"))).toBe(true);
    } finally {
      await clone.remove();
    }
  });

  it("writes no cache when the training run fails, and fails with its status", async () => {
    const { dist, tmp } = copyOfDist(dir());
    writeFileSync(path.join(dist, BUNDLE_FILE), "(function () { process.exit(3); })");
    const trained = await run(process.execPath, [path.join(dist, "train-code-cache.js")], {
      env: baseEnv({ TMPDIR: tmp }),
      cwd: dir(),
    });
    expect(trained.status).toBe(3);
    expect(trained.stderr).toContain("the training run failed (exit 3); no code cache written");
    expect(existsSync(path.join(dist, CODE_CACHE_FILE))).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("the launcher", () => {
  const dir = useTempDir("launch-");

  it("runs the bundle when V8 refuses its code cache", async () => {
    const { dist } = copyOfDist(dir());
    writeFileSync(path.join(dist, CODE_CACHE_FILE), "not V8's code cache");
    expect(accepted(dist)).toBe(false);
    const result = await run(process.execPath, [path.join(dist, "index.js"), "--version"], {
      env: baseEnv(),
      cwd: dir(),
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
