/**
 * The pipe's image, run the way Bitbucket Pipelines runs a pipe: its own container, as root, with
 * the clone directory bind-mounted at /opt/atlassian/pipelines/agent/build, the step's working
 * directory, the Bitbucket variables and the pipe's variables, against the test world on
 * 127.0.0.1. Then the build container (another container, uid 1000, the same mount) sources the
 * env file and uses the credentials with the AWS SDK, as a build image's tools would.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { BUNDLE_FILE, CODE_CACHE_FILE } from "../../src/launch/bundle.ts";
import { codeCacheCheck } from "../support/distCopy.ts";
import {
  BUILD_DIR,
  docker,
  dockerEngine,
  dockerEnv,
  type Engine,
  type Images,
  pipeImages,
  requireEngine,
} from "../support/docker.ts";
import { bitbucketEnv, makeCloneDir, ROOT, secretPieces } from "../support/pipe.ts";
import { requireTool } from "../support/tools.ts";
import { startWorld, type World } from "../world/index.ts";

const REPO = "{aaaaaaaa-0000-4000-8000-000000000001}";
const OTHER_REPO = "{dddddddd-0000-4000-8000-000000000009}";
const WORKSPACE_UUID = "{11111111-2222-4333-8444-555555555555}";
/** Where the image holds the built program. */
const IMAGE_DIST = "/opt/bitbucket-aws-oidc/dist";
/** The build container's user, and the owner of the clone directory (as in Bitbucket's non-root images). */
const asRoot = process.getuid?.() === 0;
const BUILD_UID = asRoot ? 1000 : (process.getuid?.() ?? 1000);
const BUILD_GID = asRoot ? 1000 : (process.getgid?.() ?? 1000);

const engineResult = await dockerEngine();
let engine: Engine;
let images: Images;
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  world = await startWorld();
  roleArn = world.allowRepository(REPO, { roleName: "deploy" });
  if (!("engine" in engineResult)) return;
  engine = engineResult.engine;
  images = await pipeImages(engine);
}, 300_000);
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  world.clearRequests();
  clone = await makeCloneDir();
  // Bitbucket's clone directory belongs to the build image's user, not to root.
  if (asRoot) execFileSync("chown", ["-R", `${BUILD_UID}:${BUILD_GID}`, clone.dir]);
  return () => clone.remove();
});

/** The variables Bitbucket gives a pipe: its defaults for the step, the token, and the pipe's `variables:`. */
async function stepVariables(variables: Record<string, string | undefined>, repositoryUuid = REPO) {
  const token = await world.issuer.token({ repositoryUuid });
  const all = bitbucketEnv({
    cloneDir: BUILD_DIR,
    token,
    endpoint: world.endpoint,
    variables: { AWS_ROLE_ARN: roleArn, ...variables },
  });
  const names = Object.keys(all).filter(
    (name) =>
      name.startsWith("BITBUCKET_") || name in variables || /^AWS_(ENDPOINT_URL|REGION|ROLE_ARN)$/.test(name),
  );
  return { token, env: Object.fromEntries(names.map((name) => [name, all[name] as string])) };
}

/**
 * `docker run` as Bitbucket's runner does for a pipe. Values travel in the docker CLI's environment
 * and only their names on its command line (`--env NAME`), so the token is not in `ps`.
 */
function runPipeContainer(env: Record<string, string>, args: readonly string[] = []) {
  return docker(
    engine,
    [
      "run",
      "--rm",
      "--network",
      "host",
      "--volume",
      `${clone.dir}:${BUILD_DIR}`,
      "--workdir",
      BUILD_DIR,
      ...Object.keys(env).flatMap((name) => ["--env", name]),
      images.pipe,
      ...args,
    ],
    { env: dockerEnv(engine, env) },
  );
}

/**
 * The build container's next script line, `. ./.aws-oidc/env && <command>`, as `uid`: the image has
 * no shell of its own, so the host's dash is mounted as /bin/sh; node and the SDK (the repository's
 * node_modules, mounted read-only at /src) stand for the build image's tools.
 */
function inBuildContainer(command: string, user = `${BUILD_UID}:${BUILD_GID}`) {
  const env = {
    HOME: "/tmp",
    AWS_ENDPOINT_URL: world.endpoint,
    AWS_CONFIG_FILE: "/nonexistent/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  return docker(
    engine,
    [
      "run",
      "--rm",
      "--network",
      "host",
      "--user",
      user,
      "--volume",
      `${clone.dir}:${BUILD_DIR}`,
      "--workdir",
      BUILD_DIR,
      "--volume",
      `${dashCopy()}:/bin/sh:ro`,
      "--volume",
      `${ROOT}:/src:ro`,
      "--entrypoint",
      "/bin/sh",
      ...Object.keys(env).flatMap((name) => ["--env", name]),
      images.pipe,
      "-c",
      `. ./.aws-oidc/env && ${command}`,
    ],
    { env: dockerEnv(engine, env) },
  );
}

/**
 * The host's dash, copied under TMPDIR: a docker service in another container (Bitbucket's)
 * bind-mounts from its own filesystem, which shares only the clone directory (TMPDIR is set inside it there).
 */
let dash: string | undefined;
function dashCopy(): string {
  if (dash === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), "bbdash-"));
    dash = path.join(dir, "dash");
    copyFileSync(
      realpathSync(execFileSync("sh", ["-c", "command -v dash"], { encoding: "utf8" }).trim()),
      dash,
    );
    chmodSync(dash, 0o755);
    chmodSync(dir, 0o755);
  }
  return dash;
}
afterAll(() => {
  if (dash !== undefined) rmSync(path.dirname(dash), { recursive: true, force: true });
});

const SDK_IDENTITY = "/nodejs/bin/node /src/test/support/sdk-identity.mjs";
const outDir = () => path.join(clone.dir, ".aws-oidc");
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? "";

describe("the pipe's container, as Bitbucket runs it", () => {
  it("writes credentials as root, gives them to the clone directory's owner, and a uid-1000 build container uses them", async (ctx) => {
    requireEngine(ctx, engineResult);
    requireTool(ctx, "dash", "apt-get install -y dash");
    const { token, env } = await stepVariables({});
    const piped = await runPipeContainer(env);
    expect(piped.status, piped.output).toBe(0);
    expect(lastLine(piped.stdout)).toMatch(/^✔ .*assumed-role\/deploy\/bitbucket-web-app-42/);
    expect(piped.stdout).toMatch(/^INFO: Verified with sts:GetCallerIdentity: /m);
    // Node 24's own warnings (a deprecated API in a dependency) would land in every user's log.
    expect(piped.stderr).toBe("");
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
    const issued = [...world.sessions.values()].flatMap((s) => [
      s.accessKeyId,
      s.secretAccessKey,
      s.sessionToken,
    ]);
    for (const piece of secretPieces(token, issued)) expect(piped.output).not.toContain(piece);

    // On the host (the runner's view of the clone directory): owned by the build user, private.
    for (const [file, mode] of [
      ["", 0o700],
      ["env", 0o600],
      ["docker.env", 0o600],
      ["web-identity-token", 0o600],
      ["outputs.json", 0o600],
    ] as const) {
      const stat = statSync(path.join(outDir(), file));
      expect({ file, uid: stat.uid, gid: stat.gid, mode: stat.mode & 0o777 }).toEqual({
        file,
        uid: BUILD_UID,
        gid: BUILD_GID,
        mode,
      });
    }
    const envFile = await readFile(path.join(outDir(), "env"), "utf8");
    // Paths are the container's, which are also the build container's: the same mount point.
    expect(envFile).toContain(
      `export AWS_WEB_IDENTITY_TOKEN_FILE='${BUILD_DIR}/.aws-oidc/web-identity-token'\n`,
    );
    expect(await readFile(path.join(clone.dir, ".git/info/exclude"), "utf8")).toMatch(/^\/\.aws-oidc\/$/m);

    world.clearRequests();
    const used = await inBuildContainer(SDK_IDENTITY);
    expect(used.status, used.output).toBe(0);
    expect(used.stdout.trim()).toBe("arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-app-42");
    // Signed with the issued keys (the world checked the SigV4 signature and the session token).
    const keyId = /AWS_ACCESS_KEY_ID='([^']+)'/.exec(envFile)?.[1];
    expect(world.requests.map((r) => [r.action, r.status, r.accessKeyId])).toEqual([
      ["GetCallerIdentity", 200, keyId],
    ]);

    // Another user of the build image can't read them: the chown is what lets uid 1000 in.
    const other = await inBuildContainer(SDK_IDENTITY, "1001:1001");
    expect(other.status).not.toBe(0);
    expect(other.output).toMatch(/Permission denied|can't open/i);
  });

  it("web-identity mode: the build container's SDK assumes the role itself from the token file at the mount path", async (ctx) => {
    requireEngine(ctx, engineResult);
    requireTool(ctx, "dash", "apt-get install -y dash");
    const { env } = await stepVariables({ CREDENTIALS_MODE: "web-identity" });
    const piped = await runPipeContainer(env);
    expect(piped.status, piped.output).toBe(0);
    world.clearRequests();
    const used = await inBuildContainer(SDK_IDENTITY);
    expect(used.status, used.output).toBe(0);
    expect(used.stdout.trim()).toMatch(/^arn:aws:sts::111111111111:assumed-role\/deploy\//);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
  });

  it("fails inside the container with a non-zero status, the ✖ line and no credential files", async (ctx) => {
    requireEngine(ctx, engineResult);
    const refused = await runPipeContainer((await stepVariables({}, OTHER_REPO)).env);
    expect(refused.status, refused.output).toBe(3);
    expect(lastLine(refused.stdout)).toMatch(/^✖ /);
    expect(refused.stdout).toContain(`${OTHER_REPO}:*`);
    expect(() => statSync(path.join(outDir(), "env"))).toThrow();

    const { env } = await stepVariables({});
    delete env.BITBUCKET_STEP_OIDC_TOKEN;
    const noToken = await runPipeContainer(env);
    expect(noToken.status, noToken.output).toBe(2);
    expect(lastLine(noToken.stdout)).toMatch(/^✖ .*BITBUCKET_STEP_OIDC_TOKEN.*oidc: true/);
  });
});

describe("the image's commands", () => {
  it("passes arguments through: `template ...` prints a CloudFormation template", async (ctx) => {
    requireEngine(ctx, engineResult);
    const result = await docker(engine, [
      "run",
      "--rm",
      images.pipe,
      "template",
      "--workspace",
      "acme",
      "--workspace-uuid",
      WORKSPACE_UUID,
      "--repository-uuid",
      REPO,
    ]);
    expect(result.status, result.output).toBe(0);
    const template = parseYaml(result.stdout) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain("AWS::IAM::Role");
    expect(types).toContain("AWS::IAM::OIDCProvider");
    expect(result.stdout).toContain("api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc");

    const version = await docker(engine, ["run", "--rm", images.pipe, "--version"]);
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});

describe("the image", () => {
  it("holds Node 24 and the built program only, with OCI labels and an argument-passing entrypoint", async (ctx) => {
    requireEngine(ctx, engineResult);
    const inspect = await docker(engine, ["image", "inspect", images.pipe]);
    expect(inspect.status, inspect.output).toBe(0);
    const [info] = JSON.parse(inspect.stdout) as Array<{
      Size: number;
      Config: {
        Entrypoint: string[];
        Cmd: string[] | null;
        WorkingDir: string;
        User: string;
        Labels: Record<string, string>;
      };
    }>;
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
      license: string;
    };
    expect(info?.Config.Entrypoint).toEqual([
      "/nodejs/bin/node",
      "--v8-pool-size=1",
      "/opt/bitbucket-aws-oidc/dist/index.js",
    ]);
    expect(info?.Config.Cmd ?? []).toEqual([]);
    // Bitbucket sets the working directory and runs pipes as root: the image leaves both alone.
    expect(info?.Config.WorkingDir).toBe("");
    expect(["", "0", "root"]).toContain(info?.Config.User);
    expect(info?.Config.Labels).toMatchObject({
      "org.opencontainers.image.title": "bitbucket-aws-oidc",
      "org.opencontainers.image.version": pkg.version,
      "org.opencontainers.image.revision": "test",
      "org.opencontainers.image.licenses": pkg.license,
    });
    expect(info?.Config.Labels["org.opencontainers.image.source"]).toMatch(/^https:\/\//);

    const listing = await docker(engine, [
      "run",
      "--rm",
      "--entrypoint",
      "/nodejs/bin/node",
      images.pipe,
      "-e",
      `const fs = require("fs");
       const list = (d) => fs.readdirSync(d).sort();
       console.log(JSON.stringify({
         app: list("/opt/bitbucket-aws-oidc"),
         dist: list("/opt/bitbucket-aws-oidc/dist"),
         cache: fs.statSync(${JSON.stringify(`${IMAGE_DIST}/${CODE_CACHE_FILE}`)}).size,
         version: process.versions.node,
         npm: ["/nodejs/bin/npm", "/nodejs/lib/node_modules/npm", "/usr/bin/apt-get", "/bin/sh"].filter((p) => fs.existsSync(p)),
       }));`,
    ]);
    expect(listing.status, listing.output).toBe(0);
    const seen = JSON.parse(listing.stdout) as {
      app: string[];
      dist: string[];
      cache: number;
      version: string;
      npm: string[];
    };
    expect(seen.app).toEqual(["dist", "pipe.yml"]);
    // dist/ as built, and the code cache the image's build made beside the bundle.
    const built = (await readdir(path.join(ROOT, "dist"))).filter((name) => name !== CODE_CACHE_FILE);
    expect(seen.dist).toEqual([...built, CODE_CACHE_FILE].sort());
    // Holding more than the bundle's outer functions: the code of the functions a whole run
    // compiled (about 1 MB).
    expect(seen.cache).toBeGreaterThan(400 * 1024);
    expect(seen.version).toMatch(/^24\./);
    expect(seen.npm).toEqual([]);

    // Accepted by the image's V8 started with the entrypoint's options.
    const accepted = await docker(engine, [
      "run",
      "--rm",
      "--entrypoint",
      "/nodejs/bin/node",
      images.pipe,
      "--v8-pool-size=1",
      "-e",
      codeCacheCheck(`${IMAGE_DIST}/${BUNDLE_FILE}`, `${IMAGE_DIST}/${CODE_CACHE_FILE}`),
    ]);
    expect(accepted.status, accepted.output).toBe(0);
    expect(accepted.stdout).toBe("true");

    // Our layers on top of the base: the bundle (with its launcher and package.json), pipe.yml and the code cache.
    const base = await docker(engine, ["image", "inspect", "--format", "{{.Size}}", images.base]);
    const ours = (info?.Size ?? 0) - Number(base.stdout.trim());
    expect(ours).toBeGreaterThan(0);
    expect(ours).toBeLessThan(5 * 1024 * 1024);
  });
});
