/**
 * The code cache a run outside the image makes for itself where NODE_COMPILE_CACHE asks for one
 * (src/launch/userCache.ts): where it lives, that only a folder and a file of the user's own are
 * trusted, and that the launcher makes it after the first successful pipe run and starts later runs
 * from it, and writes nothing when not asked.
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readUserCodeCache, userCodeCacheFile, writeUserCodeCache } from "../../src/launch/userCache.ts";
import { codeCacheAccepted, copyOfDist } from "../support/distCopy.ts";
import { runBuiltPipe, stepEnv } from "../support/pipe.ts";
import { type StepWorld, useStepWorld } from "../support/stepWorld.ts";
import { useTempDir } from "../support/tempDir.ts";

const NODE = { version: "v24.1.0", arch: "arm64" };
const uid = process.getuid?.() ?? -1;

describe("userCodeCacheFile", () => {
  it("is in the folder NODE_COMPILE_CACHE names, named after the bundle and the Node; none unless asked", () => {
    expect(userCodeCacheFile({ NODE_COMPILE_CACHE: "/var/cache/node" }, "0123456789abcdef", NODE)).toBe(
      "/var/cache/node/bitbucket-aws-oidc-0123456789abcdef-v24.1.0-arm64.code-cache",
    );
    expect(userCodeCacheFile({}, "00", NODE)).toBeUndefined();
    expect(userCodeCacheFile({ NODE_COMPILE_CACHE: "" }, "00", NODE)).toBeUndefined();
    expect(
      userCodeCacheFile({ NODE_COMPILE_CACHE: "/c", NODE_DISABLE_COMPILE_CACHE: "1" }, "00", NODE),
    ).toBeUndefined();
  });
});

describe("the user's code cache file", () => {
  const dir = useTempDir("user-cache-");
  const data = Buffer.from("cache bytes");

  it("is written 0600 in a folder made 0700, and read back", () => {
    const file = path.join(dir(), "cache", "c.code-cache");
    writeUserCodeCache(file, data, uid);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(["c.code-cache"]);
    expect(readUserCodeCache(file, uid)).toEqual(data);
  });

  it("is neither read nor written where someone else can write", () => {
    const folder = path.join(dir(), "shared");
    mkdirSync(folder);
    const file = path.join(folder, "c.code-cache");
    writeFileSync(file, data, { mode: 0o600 });
    chmodSync(folder, 0o777);
    expect(readUserCodeCache(file, uid)).toBeUndefined();
    writeUserCodeCache(path.join(folder, "new.code-cache"), data, uid);
    expect(readdirSync(folder)).toEqual(["c.code-cache"]);

    chmodSync(folder, 0o700);
    expect(readUserCodeCache(file, uid)).toEqual(data);
    chmodSync(file, 0o620);
    expect(readUserCodeCache(file, uid)).toBeUndefined();
  });

  it("is not read through a symbolic link, nor when it is another user's", () => {
    const folder = path.join(dir(), "mine");
    mkdirSync(folder, { mode: 0o700 });
    const file = path.join(folder, "c.code-cache");
    writeFileSync(file, data, { mode: 0o600 });
    expect(readUserCodeCache(file, uid + 1)).toBeUndefined();
    const link = path.join(folder, "link.code-cache");
    symlinkSync(file, link);
    expect(readUserCodeCache(link, uid)).toBeUndefined();
  });

  it.runIf(uid === 0)("is not read when root finds it owned by another user", () => {
    const folder = path.join(dir(), "root");
    mkdirSync(folder, { mode: 0o700 });
    const file = path.join(folder, "c.code-cache");
    writeFileSync(file, data, { mode: 0o600 });
    chownSync(file, 65534, 65534);
    expect(readUserCodeCache(file, uid)).toBeUndefined();
  });
});

describe("a pipe run outside the image", () => {
  const dir = useTempDir("user-cache-run-");
  let state: StepWorld;
  useStepWorld((s) => {
    state = s;
  });

  it("makes its code cache after its first success, starts from it after, and makes none otherwise", async () => {
    const { dist, tmp } = copyOfDist(dir());
    const cacheDir = path.join(dir(), "compile-cache");
    const { world, roleArn, clone } = state;
    const step = { AWS_ROLE_ARN: roleArn, NODE_COMPILE_CACHE: cacheDir };
    const pipe = async (args: string[], variables: Record<string, string | undefined>) => {
      const { env } = await stepEnv(world, clone.dir, variables);
      return runBuiltPipe(env, clone.dir, args, { program: path.join(dist, "index.js") });
    };
    const cached = () => (statSync(cacheDir, { throwIfNoEntry: false }) ? readdirSync(cacheDir) : []);

    // A command, a failed run and a run with the cache turned off make none; nor, anywhere, a
    // run that did not ask for one (its TMPDIR and HOME stay as they were).
    expect((await pipe(["--version"], step)).status).toBe(0);
    expect((await pipe([], { ...step, BITBUCKET_STEP_OIDC_TOKEN: undefined })).status).not.toBe(0);
    expect((await pipe([], { ...step, NODE_DISABLE_COMPILE_CACHE: "1" })).status).toBe(0);
    const home = path.join(dir(), "home");
    mkdirSync(home);
    const plain = await pipe([], { ...step, NODE_COMPILE_CACHE: undefined, TMPDIR: tmp, HOME: home });
    expect(plain.status, plain.output).toBe(0);
    expect([readdirSync(tmp), readdirSync(home)]).toEqual([[], []]);
    expect(cached()).toEqual([]);

    const first = await pipe([], step);
    expect(first.status, first.output).toBe(0);
    const [name] = cached();
    expect(cached()).toHaveLength(1);
    expect(name).toMatch(
      new RegExp(`^bitbucket-aws-oidc-[0-9a-f]{16}-${process.version}-${process.arch}\\.code-cache$`),
    );
    const file = path.join(cacheDir, name ?? "");
    expect(codeCacheAccepted(dist, file)).toBe(true);

    // The next run starts from it and leaves it as it is.
    const written = statSync(file);
    const second = await pipe([], step);
    expect(second.status, second.output).toBe(0);
    expect(second.stdout).toContain("Verified with sts:GetCallerIdentity");
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs);
    expect(statSync(file).ino).toBe(written.ino);

    // One V8 refuses is made again.
    writeFileSync(file, "not V8's code cache", { mode: 0o600 });
    expect((await pipe([], step)).status).toBe(0);
    expect(codeCacheAccepted(dist, file)).toBe(true);
  });
});
