/**
 * The world's package registries: real package files, and nothing without a token the world's
 * CodeArtifact issued for that domain.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CodeartifactClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-codeartifact";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { crc32, digest, tgz, wheel, zip } from "./archives.ts";
import {
  DEFAULT_ACCOUNT,
  DEFAULT_REPOSITORY_UUID,
  PACKAGES,
  type Registries,
  startRegistries,
  startWorld,
  type World,
} from "./index.ts";

const REGION = "ap-southeast-2";
let world: World;
let registries: Registries;
let token: string;
let otherDomainToken: string;
const scratch = mkdtempSync(path.join(tmpdir(), "registries-"));

async function issue(domain: string): Promise<string> {
  const roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID);
  const sts = new STSClient({ endpoint: world.endpoint, region: REGION, maxAttempts: 1 });
  const assumed = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: "registries",
      WebIdentityToken: await world.issuer.token({ repositoryUuid: DEFAULT_REPOSITORY_UUID }),
    }),
  );
  const c = assumed.Credentials;
  const ca = new CodeartifactClient({
    endpoint: world.endpoint,
    region: REGION,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken ?? "",
    },
  });
  const answer = await ca.send(new GetAuthorizationTokenCommand({ domain, durationSeconds: 0 }));
  return answer.authorizationToken ?? "";
}

beforeAll(async () => {
  world = await startWorld();
  world.codeartifact.addDomain({ domain: "acme", owner: DEFAULT_ACCOUNT, repositories: ["store"] });
  world.codeartifact.addDomain({ domain: "other", owner: DEFAULT_ACCOUNT, repositories: ["store"] });
  registries = startRegistries(world);
  token = await issue("acme");
  otherDomainToken = await issue("other");
});
afterAll(async () => {
  registries?.stop();
  await world?.close();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => registries.clear());

const base = (format: string) => `${world.codeartifact.registryBase}acme-${DEFAULT_ACCOUNT}/${format}/store/`;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const basic = (user: string, t: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${t}`).toString("base64")}`,
});

describe("npm registry", () => {
  it("serves packuments and tarballs to a bearer token of the domain", async () => {
    const packument = await fetch(`${base("npm")}@acme%2fhello`, { headers: bearer(token) });
    expect(packument.status).toBe(200);
    const body = (await packument.json()) as {
      name: string;
      versions: Record<string, { dist: { tarball: string; integrity: string; shasum: string } }>;
    };
    expect(body.name).toBe("@acme/hello");
    const dist = body.versions["1.0.0"]?.dist;
    expect(dist?.tarball).toBe(`${base("npm")}@acme/hello/-/hello-1.0.0.tgz`);
    const tarball = Buffer.from(
      await (await fetch(dist?.tarball ?? "", { headers: bearer(token) })).arrayBuffer(),
    );
    expect(`sha512-${digest("sha512", tarball, "base64")}`).toBe(dist?.integrity);
    expect(digest("sha1", tarball)).toBe(dist?.shasum);
    // A real tar: the system's tar reads it.
    const file = path.join(scratch, "hello.tgz");
    writeFileSync(file, tarball);
    execFileSync("tar", ["-xzf", file, "-C", scratch]);
    expect(JSON.parse(readFileSync(path.join(scratch, "package/package.json"), "utf8"))).toMatchObject({
      name: "@acme/hello",
      version: "1.0.0",
    });
    expect(registries.requests.map((r) => [r.format, r.path, r.credential, r.status])).toEqual([
      ["npm", "@acme/hello", "bearer", 200],
      ["npm", "@acme/hello/-/hello-1.0.0.tgz", "bearer", 200],
    ]);
  });

  it("answers 401 without a token, with basic auth, with another domain's token or a revoked one", async () => {
    const url = `${base("npm")}hello-ca`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await fetch(url, { headers: basic("aws", token) })).status).toBe(401);
    expect((await fetch(url, { headers: bearer(otherDomainToken) })).status).toBe(401);
    expect((await fetch(url, { headers: bearer(`${token}x`) })).status).toBe(401);
    expect((await fetch(url, { headers: bearer(token) })).status).toBe(200);
    expect((await fetch(`${base("npm")}left-pad`, { headers: bearer(token) })).status).toBe(404);
    const revoked = await issue("acme");
    registries.revoke(revoked);
    expect((await fetch(url, { headers: bearer(revoked) })).status).toBe(401);
    expect(registries.requests.map((r) => r.credential)).toEqual([
      "none",
      "basic",
      "invalid",
      "invalid",
      "bearer",
      "bearer",
      "invalid",
    ]);
  });
});

describe("PyPI index", () => {
  it("serves the simple index and a real wheel to basic auth aws:<token>", async () => {
    const auth = basic("aws", token);
    const page = await fetch(`${base("pypi")}simple/hello_ca/`, { headers: auth });
    expect(page.status).toBe(200);
    const html = await page.text();
    const link = /href="([^"#]+)#sha256=([0-9a-f]{64})"/.exec(html);
    expect(link?.[1]).toBe("hello_ca-1.0.0-py3-none-any.whl");
    const whl = Buffer.from(
      await (await fetch(`${base("pypi")}simple/hello-ca/${link?.[1]}`, { headers: auth })).arrayBuffer(),
    );
    expect(digest("sha256", whl)).toBe(link?.[2]);
    const file = path.join(scratch, link?.[1] ?? "x.whl");
    writeFileSync(file, whl);
    // Python's own zip reader checks every CRC, and imports from the wheel.
    execFileSync("python3", ["-m", "zipfile", "-t", file]);
    const greeting = execFileSync("python3", ["-c", "import hello_ca; print(hello_ca.GREETING)"], {
      env: { ...process.env, PYTHONPATH: file },
      encoding: "utf8",
    });
    expect(greeting.trim()).toBe(PACKAGES.pypi.says);
    expect(
      (await fetch(`${base("pypi")}simple/hello-ca/`, { headers: basic("__token__", token) })).status,
    ).toBe(401);
    expect((await fetch(`${base("pypi")}simple/hello-ca/`, { headers: bearer(token) })).status).toBe(401);
    expect((await fetch(`${base("pypi")}simple/hello-ca/`)).headers.get("www-authenticate")).toMatch(
      /^Basic/,
    );
  });

  it("takes legacy-API uploads and checks their digest", async () => {
    const built = wheel({ name: "up-pkg", version: "3.1.0", summary: "s", files: [] });
    const form = new FormData();
    form.set(":action", "file_upload");
    form.set("name", "up-pkg");
    form.set("version", "3.1.0");
    form.set("sha256_digest", digest("sha256", built.content));
    form.set("content", new Blob([built.content]), built.filename);
    const sent = await fetch(base("pypi"), { method: "POST", body: form, headers: basic("aws", token) });
    expect(sent.status).toBe(200);
    expect(registries.uploads).toEqual([
      {
        domain: "acme",
        repository: "store",
        name: "up-pkg",
        version: "3.1.0",
        filename: built.filename,
        digestMatches: true,
        size: built.content.length,
      },
    ]);
    const anonymous = await fetch(base("pypi"), { method: "POST", body: form });
    expect(anonymous.status).toBe(401);
    expect(registries.uploads).toHaveLength(1);
  });
});

describe("Maven repository", () => {
  it("serves the pom, the jar and their checksums to basic auth aws:<token>", async () => {
    const auth = basic("aws", token);
    const dir = `${base("maven")}com/acme/hello/1.0.0/`;
    const jar = Buffer.from(await (await fetch(`${dir}hello-1.0.0.jar`, { headers: auth })).arrayBuffer());
    expect(await (await fetch(`${dir}hello-1.0.0.jar.sha1`, { headers: auth })).text()).toBe(
      digest("sha1", jar),
    );
    const file = path.join(scratch, "hello.jar");
    writeFileSync(file, jar);
    execFileSync("python3", ["-m", "zipfile", "-t", file]);
    expect(await (await fetch(`${dir}hello-1.0.0.pom`, { headers: auth })).text()).toContain(
      "<artifactId>hello</artifactId>",
    );
    expect((await fetch(`${dir}hello-1.0.0.pom`)).status).toBe(401);
    expect((await fetch(`${dir}hello-2.0.0.pom`, { headers: auth })).status).toBe(404);
  });
});

describe("archives", () => {
  it("computes the CRC-32 zip uses", () => {
    expect(crc32(Buffer.from("123456789")).toString(16)).toBe("cbf43926");
  });

  it("makes the same bytes from the same entries", () => {
    const entries = [{ name: "a.txt", content: "a" }];
    expect(zip(entries).equals(zip(entries))).toBe(true);
    expect(tgz(entries).equals(tgz(entries))).toBe(true);
  });
});
