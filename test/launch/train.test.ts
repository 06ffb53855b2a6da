/**
 * The built program's launcher and its code cache (src/launch/): dist/train-code-cache.js makes the
 * cache as the image's build does, V8 accepts it, a pipe run starts from it, and neither a failed
 * training nor a cache V8 refuses breaks anything.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_FILE, CODE_CACHE_FILE } from "../../src/launch/bundle.ts";
import { BUILT, codeCacheAccepted, copyOfDist } from "../support/distCopy.ts";
import { baseEnv, run, runStep } from "../support/pipe.ts";
import { type StepWorld, useStepWorld } from "../support/stepWorld.ts";
import { useTempDir } from "../support/tempDir.ts";

describe("train-code-cache.js", () => {
  const dir = useTempDir("launch-");
  let step: StepWorld;
  useStepWorld((state) => {
    step = state;
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
    expect(codeCacheAccepted(dist, path.join(dist, CODE_CACHE_FILE))).toBe(true);

    const { world, roleArn, clone } = step;
    const { result } = await runStep(
      world,
      clone.dir,
      { AWS_ROLE_ARN: roleArn },
      {},
      {
        program: path.join(dist, "index.js"),
      },
    );
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain("Verified with sts:GetCallerIdentity");
    expect(existsSync(path.join(clone.dir, ".aws-oidc/env"))).toBe(true);
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
    expect(codeCacheAccepted(dist, path.join(dist, CODE_CACHE_FILE))).toBe(false);
    const result = await run(process.execPath, [path.join(dist, "index.js"), "--version"], {
      env: baseEnv(),
      cwd: dir(),
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
