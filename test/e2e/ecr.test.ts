/**
 * ECR_LOGIN end to end: the pipe's one GetAuthorizationToken (concurrent with the verification),
 * its files, and the real Docker CLI pushing to and pulling from a real registry (the Distribution
 * registry, demanding the password the emulator issued) with nothing but the sourced env file.
 */
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { docker, dockerEngine, exec, requireEngine } from "../support/docker.ts";
import { fileMode } from "../support/output.ts";
import { runStep, secretPieces, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import { requireTool } from "../support/tools.ts";
import { type DockerRegistry, startDockerRegistry } from "../world/dockerRegistry.ts";
import type { World } from "../world/index.ts";

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };

useStepWorld((s) => ({ world, roleArn, clone } = s));

const pipe = (variables: Record<string, string | undefined> = {}, tokenOptions = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ECR_LOGIN: "true", ...variables }, tokenOptions);
const outDir = () => path.join(clone.dir, ".aws-oidc");
const read = (name: string) => readFileSync(path.join(outDir(), name), "utf8");
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("ECR_LOGIN", () => {
  it("makes one GetAuthorizationToken, concurrent with the verification, and writes DOCKER_CONFIG", async () => {
    const latency = 300;
    world.setLatency(latency);
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    const actions = world.requests.map((r) => r.action);
    expect(actions.filter((a) => a === "GetAuthorizationToken")).toHaveLength(1);
    expect(actions).toContain("GetCallerIdentity");
    const ecr = world.requests.find((r) => r.action === "GetAuthorizationToken");
    const verify = world.requests.find((r) => r.action === "GetCallerIdentity");
    const assume = world.requests.find((r) => r.action === "AssumeRoleWithWebIdentity");
    expect(ecr?.service).toBe("ecr");
    // No registryIds (deprecated): one token serves every registry the role may reach.
    expect(ecr?.params).toEqual({});
    // Signed with the role's fresh credentials.
    expect(world.sessions.get(ecr?.accessKeyId ?? "")?.roleArn).toBe(roleArn);
    // Sent together right after the assume's answer, not one after the other.
    expect(Math.abs((ecr?.at ?? 0) - (verify?.at ?? 0))).toBeLessThan(latency);
    expect((ecr?.at ?? 0) - (assume?.at ?? 0)).toBeGreaterThanOrEqual(latency - 5);

    const password = world.ecr.issuedTokens.at(-1) ?? "";
    const host = "111111111111.dkr.ecr.ap-southeast-2.amazonaws.com";
    const dockerDir = path.join(outDir(), "docker");
    expect(fileMode(dockerDir)).toBe(0o700);
    expect(fileMode(path.join(dockerDir, "config.json"))).toBe(0o600);
    expect(JSON.parse(read("docker/config.json"))).toEqual({
      auths: { [host]: { auth: base64(`AWS:${password}`) } },
    });
    expect(read("env")).toContain(`export DOCKER_CONFIG='${dockerDir}'\n`);
    expect(read("docker.env")).not.toContain("DOCKER_CONFIG");
    const outputs = JSON.parse(read("outputs.json")) as { ecr: { registries: string[]; expiration: string } };
    expect(outputs.ecr.registries).toEqual([host]);
    // ECR's tokens last 12 hours, whatever the role session.
    const hours = (Date.parse(outputs.ecr.expiration) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    expect(result.stdout).toMatch(/^INFO: Docker is logged in to Amazon ECR: 111111111111\.dkr\.ecr\./m);
  });

  it("logs in to each of ECR_REGISTRY_IDS with the same token, on the answer's host with the account replaced", async () => {
    world.ecr.setProxyEndpoint((account, region) => `https://${account}.dkr.ecr.${region}.amazonaws.com.cn`);
    const { result } = await pipe({ ECR_REGISTRY_IDS: "222222222222, 111111111111,333333333333" });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.filter((r) => r.action === "GetAuthorizationToken")).toHaveLength(1);
    const registries = [
      "111111111111.dkr.ecr.ap-southeast-2.amazonaws.com.cn",
      "222222222222.dkr.ecr.ap-southeast-2.amazonaws.com.cn",
      "333333333333.dkr.ecr.ap-southeast-2.amazonaws.com.cn",
    ];
    const config = JSON.parse(read("docker/config.json")) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(config.auths)).toEqual(registries);
    expect(new Set(Object.values(config.auths).map((a) => a.auth)).size).toBe(1);
    expect(JSON.parse(read("outputs.json")).ecr.registries).toEqual(registries);
  });

  it("is refused with exit 3 naming ecr:GetAuthorizationToken, and writes nothing", async () => {
    // A role of its own: the world has no "allow again" for the shared one.
    const denied = world.allowRepository(TEST_REPOSITORY, { roleName: "no-ecr" });
    world.ecr.denyRole(denied);
    const { result } = await pipe({ AWS_ROLE_ARN: denied });
    expect(result.status, result.output).toBe(3);
    const last = result.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(last).toMatch(/^✖ .*ecr:GetAuthorizationToken/);
    expect(result.stdout).toMatch(/AccessDeniedException/);
    for (const file of ["env", "docker.env", "docker/config.json", "outputs.json"]) {
      expect(() => statSync(path.join(outDir(), file)), file).toThrow();
    }
  });

  it("never prints the ECR token, its password or its base64 form, even with DEBUG=true", async () => {
    const runs = [await pipe({ DEBUG: "true" }), await pipe({ DEBUG: "true", MASK_ACCOUNT_ID: "true" })];
    const issued = [
      ...[...world.sessions.values()].flatMap((s) => [s.accessKeyId, s.secretAccessKey, s.sessionToken]),
      ...world.ecr.issuedTokens.flatMap((t) => [t, base64(`AWS:${t}`), t.slice(20, 60)]),
    ];
    for (const { token, result } of runs) {
      expect(result.status, result.output).toBe(0);
      expect(result.output).toMatch(/DEBUG: /);
      for (const piece of secretPieces(token, issued)) expect(result.output).not.toContain(piece);
    }
    expect(runs[1]?.result.output).not.toContain("111111111111");
    expect(runs[1]?.result.output).toMatch(/\*{12}\.dkr\.ecr\./);
  });
});

describe("the real Docker CLI with the pipe's DOCKER_CONFIG", () => {
  const engineResult = dockerEngine();
  let registry: DockerRegistry | undefined;
  let work: string | undefined;
  afterAll(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("pushes an image to a registry that demands ECR's password, and pulls it back; without it the push is refused", async (ctx) => {
    const engine = requireEngine(ctx, await engineResult);
    requireTool(ctx, "docker-registry", "apt-get install -y docker-registry");
    requireTool(ctx, "htpasswd", "apt-get install -y apache2-utils");
    registry = await startDockerRegistry();
    world.ecr.setProxyEndpoint(registry.endpoint);

    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(JSON.parse(read("outputs.json")).ecr.registries).toEqual([registry.host]);
    await registry.allow("AWS", world.ecr.issuedTokens.at(-1) ?? "");

    // A small image of our own: FROM scratch and one file.
    work = await mkdtemp(path.join(tmpdir(), "bbecr-"));
    await writeFile(path.join(work, "hello.txt"), `built for ${clone.dir}\n`);
    await writeFile(path.join(work, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
    const image = `${registry.host}/web-app:42`;
    const built = await docker(engine, ["build", "--quiet", "--tag", image, work]);
    expect(built.status, built.output).toBe(0);
    const id = (await docker(engine, ["image", "inspect", "--format", "{{.Id}}", image])).stdout.trim();

    // The build container's shell: the engine, PATH and HOME, nothing of Docker's own config.
    const shellEnv: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: clone.dir,
      ...(engine.host === "" ? {} : { DOCKER_HOST: engine.host }),
    };
    const step = (command: string) =>
      exec("sh", ["-c", `. ./.aws-oidc/env && ${command}`], { env: shellEnv, cwd: clone.dir });

    const empty = await mkdtemp(path.join(tmpdir(), "bbdockercfg-"));
    try {
      const refused = await exec("docker", ["push", image], {
        env: { ...shellEnv, DOCKER_CONFIG: empty },
        cwd: clone.dir,
      });
      expect(refused.status, refused.output).not.toBe(0);
      expect(refused.output).toMatch(/no basic auth credentials|unauthorized|authentication required/i);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }

    const pushed = await step(`docker push ${image}`);
    expect(pushed.status, `${pushed.output}\n--- registry log ---\n${registry.log()}`).toBe(0);
    expect(pushed.output).toMatch(/42: digest: sha256:[0-9a-f]{64}/);

    expect((await docker(engine, ["image", "rm", image])).status).toBe(0);
    const pulled = await step(`docker pull ${image}`);
    expect(pulled.status, `${pulled.output}\n--- registry log ---\n${registry.log()}`).toBe(0);
    expect((await docker(engine, ["image", "inspect", "--format", "{{.Id}}", image])).stdout.trim()).toBe(id);

    // Never the password in what Docker printed or in the registry's log.
    const password = world.ecr.issuedTokens.at(-1) ?? "";
    for (const text of [pushed.output, pulled.output, registry.log()]) {
      expect(text).not.toContain(password.slice(20, 60));
    }
    await docker(engine, ["image", "rm", "--force", image]);
  });
});
