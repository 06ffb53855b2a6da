/**
 * CodeArtifact login, end to end: the built pipe against the local AWS world, the env file
 * sourced in a real shell, then the real clients against the world's registries, which accept
 * only a token the world issued. Every client test has its negative control: the same command
 * after the registries stop accepting that token must fail.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeCloneDir, run, runStep, secretPieces, TEST_REPOSITORY } from "../support/pipe.ts";
import { requireTool } from "../support/tools.ts";
import { wheel } from "../world/archives.ts";
import {
  DEFAULT_ACCOUNT,
  PACKAGES,
  type Registries,
  startRegistries,
  startWorld,
  type World,
} from "../world/index.ts";

const REPO = TEST_REPOSITORY;
const DOMAIN = "acme";
const REPOSITORY = "store";
const ALL_TOOLS = "npm,pnpm,yarn,pip,uv,poetry,twine,maven,gradle,nuget";
const CREDENTIAL_FILES = ["env", "docker.env", "npmrc", "maven-settings.xml", "nuget.config", "outputs.json"];

let world: World;
let registries: Registries;
let roleArn: string;
let deniedRoleArn: string;
let clone: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  world = await startWorld();
  world.codeartifact.addDomain({ domain: DOMAIN, owner: DEFAULT_ACCOUNT, repositories: [REPOSITORY] });
  roleArn = world.allowRepository(REPO, { roleName: "deploy" });
  deniedRoleArn = world.allowRepository(REPO, { roleName: "no-codeartifact" });
  world.codeartifact.denyRole(deniedRoleArn);
  registries = startRegistries(world);
});
afterAll(async () => {
  registries?.stop();
  await world?.close();
});
beforeEach(async () => {
  world.clearRequests();
  world.clearFaults();
  world.setLatency(0);
  registries.clear();
  clone = await makeCloneDir();
  return () => clone.remove();
});

const outDir = () => path.join(clone.dir, ".aws-oidc");
const endpoint = (format: string) =>
  `${world.codeartifact.registryBase}${DOMAIN}-${DEFAULT_ACCOUNT}/${format}/${REPOSITORY}/`;
const readOut = (file: string) => readFileSync(path.join(outDir(), file), "utf8");
const outputs = () => JSON.parse(readOut("outputs.json"));

async function pipe(variables: Record<string, string | undefined> = {}) {
  const started = Date.now();
  const step = await runStep(world, clone.dir, {
    AWS_ROLE_ARN: roleArn,
    CODEARTIFACT_DOMAIN: DOMAIN,
    CODEARTIFACT_REPOSITORY: REPOSITORY,
    ...variables,
  });
  return { ...step, ms: Date.now() - started };
}

/** The CodeArtifact token the pipe wrote to the env file. */
function caToken(): string {
  const token = /^export CODEARTIFACT_AUTH_TOKEN='([^']+)'$/m.exec(readOut("env"))?.[1];
  expect(token, "CODEARTIFACT_AUTH_TOKEN in env").toBeDefined();
  expect(world.codeartifact.tokenHolder(token ?? "")).toMatchObject({ domain: DOMAIN });
  return token ?? "";
}

let homes = 0;
/** A fresh project folder in the clone, with these files. */
function project(files: Record<string, string>): string {
  const dir = path.join(clone.dir, `app-${++homes}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/**
 * The step's next script line: `. ./.aws-oidc/env`, then the client, in bash with nothing of the
 * machine's own configuration: a fresh HOME (so no client cache can answer instead of the registry),
 * no pip.conf, no update checks.
 */
function client(cwd: string, command: string, extra: Record<string, string> = {}) {
  const home = path.join(clone.dir, `.home-${++homes}`);
  mkdirSync(home);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    npm_config_cache: path.join(home, ".npm"),
    NPM_CONFIG_UPDATE_NOTIFIER: "false",
    NPM_CONFIG_AUDIT: "false",
    NPM_CONFIG_FUND: "false",
    YARN_CACHE_FOLDER: path.join(home, ".yarn-cache"),
    PIP_CONFIG_FILE: "/dev/null",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_CACHE_DIR: "1",
    PYTHON_KEYRING_BACKEND: "keyring.backends.null.Keyring",
    POETRY_CACHE_DIR: path.join(home, ".poetry-cache"),
    ...extra,
  };
  return run("bash", ["-c", `. '${outDir()}/env' && cd '${cwd}' && ${command}`], { env, cwd: clone.dir });
}

/** What the registries saw of one format: [path, credential, status]. */
const seen = (format: string) =>
  registries.requests.filter((r) => r.format === format).map((r) => [r.path, r.credential, r.status]);

const PACKAGE_JSON = `${JSON.stringify({ name: "app", version: "1.0.0", private: true })}\n`;
const SAYS = `${PACKAGES.npmUnscoped.says} / ${PACKAGES.npmScoped.says}`;
const PRINT = `node -p "require('hello-ca') + ' / ' + require('@acme/hello')"`;

describe("npm, pnpm and yarn", () => {
  it("npm install: every package from CodeArtifact, only with the token", async () => {
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    expect(outputs().codeartifact).toEqual({
      domain: DOMAIN,
      repository: REPOSITORY,
      endpoints: { npm: endpoint("npm") },
      expiration: world.codeartifact.tokenHolder(token)?.expiration.toISOString(),
    });
    expect(statSync(path.join(outDir(), "npmrc")).mode & 0o777).toBe(0o600);
    expect(readOut("env")).toContain(`export NPM_CONFIG_USERCONFIG='${path.join(outDir(), "npmrc")}'\n`);

    const app = project({ "package.json": PACKAGE_JSON });
    const npm = await client(app, `npm install hello-ca @acme/hello && ${PRINT}`);
    expect(npm.status, npm.output).toBe(0);
    expect(npm.stdout.trim().split("\n").at(-1)).toBe(SAYS);
    expect(readFileSync(path.join(app, "package-lock.json"), "utf8")).toContain(
      `${endpoint("npm")}hello-ca/-/hello-ca-1.0.0.tgz`,
    );
    const requests = seen("npm").filter(([p]) => p !== "npm"); // npm may also look itself up
    expect(requests).toEqual(
      expect.arrayContaining([
        ["hello-ca", "bearer", 200],
        ["hello-ca/-/hello-ca-1.0.0.tgz", "bearer", 200],
        ["@acme/hello/-/hello-1.0.0.tgz", "bearer", 200],
      ]),
    );
    expect(requests.every(([, credential]) => credential === "bearer")).toBe(true);

    registries.revoke(token);
    registries.clear();
    const refused = await client(project({ "package.json": PACKAGE_JSON }), "npm install hello-ca");
    expect(refused.status, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/E401|401 Unauthorized/);
    expect(seen("npm")).toContainEqual(["hello-ca", "invalid", 401]);
  });

  it("npm with CODEARTIFACT_NPM_SCOPE: only that scope goes to CodeArtifact", async () => {
    const { result } = await pipe({ CODEARTIFACT_NPM_SCOPE: "@acme" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const host = new URL(endpoint("npm")).host;
    expect(readOut("npmrc")).toBe(
      `@acme:registry=${endpoint("npm")}\n//${host}/ca/${DOMAIN}-${DEFAULT_ACCOUNT}/npm/${REPOSITORY}/:_authToken=${token}\n`,
    );
    const app = project({ "package.json": PACKAGE_JSON });
    // npm's own default registry, as npm reports it without the pipe's settings (not written here).
    const ownDefault = await run("npm", ["config", "get", "registry"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: app, NPM_CONFIG_USERCONFIG: "/nonexistent" },
      cwd: app,
    });
    expect(ownDefault.stdout.trim()).toMatch(/^https:\/\//);
    const npm = await client(
      app,
      `npm install @acme/hello && node -p "require('@acme/hello')" && npm config get registry`,
    );
    expect(npm.status, npm.output).toBe(0);
    // The scope goes to CodeArtifact; every other package still to npm's default registry.
    expect(npm.stdout.trim().split("\n").slice(-2)).toEqual([
      PACKAGES.npmScoped.says,
      ownDefault.stdout.trim(),
    ]);
    expect(ownDefault.stdout).not.toContain(host);
    expect(seen("npm").filter(([p]) => p !== "npm")).toEqual([
      ["@acme/hello", "bearer", 200],
      ["@acme/hello/-/hello-1.0.0.tgz", "bearer", 200],
    ]);

    registries.revoke(token);
    const refused = await client(project({ "package.json": PACKAGE_JSON }), "npm install @acme/hello");
    expect(refused.status, refused.output).not.toBe(0);
  });

  it("npm keeps a committed project .npmrc working: the URL interpolated there, the token from the pipe's npmrc", async () => {
    const { result } = await pipe({ CODEARTIFACT_NPM_SCOPE: "@acme" });
    expect(result.status, result.output).toBe(0);
    // The project file wins over the user config for the keys it sets: here every package goes to CodeArtifact.
    const app = project({ "package.json": PACKAGE_JSON, ".npmrc": `registry=\${CODEARTIFACT_NPM_URL}\n` });
    const npm = await client(app, `npm install hello-ca @acme/hello && ${PRINT}`);
    expect(npm.status, npm.output).toBe(0);
    expect(npm.stdout.trim().split("\n").at(-1)).toBe(SAYS);
    expect(seen("npm")).toContainEqual(["hello-ca", "bearer", 200]);
  });

  it("pnpm add: every package from CodeArtifact, only with the token", async (ctx) => {
    requireTool(ctx, "pnpm", "npm install -g pnpm@10");
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "pnpm" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    expect(outputs().codeartifact.endpoints).toEqual({ pnpm: endpoint("npm") });
    const app = project({ "package.json": PACKAGE_JSON });
    const pnpm = await client(app, `pnpm add hello-ca @acme/hello --store-dir "$HOME/store" && ${PRINT}`);
    expect(pnpm.status, pnpm.output).toBe(0);
    expect(pnpm.stdout.trim().split("\n").at(-1)).toBe(SAYS);
    expect(readFileSync(path.join(app, "pnpm-lock.yaml"), "utf8")).toContain("hello-ca@1.0.0");
    expect(seen("npm").filter(([p]) => p !== "pnpm")).toEqual(
      expect.arrayContaining([
        ["hello-ca/-/hello-ca-1.0.0.tgz", "bearer", 200],
        ["@acme/hello/-/hello-1.0.0.tgz", "bearer", 200],
      ]),
    );

    registries.revoke(token);
    const refused = await client(
      project({ "package.json": PACKAGE_JSON }),
      `pnpm add hello-ca --store-dir "$HOME/store"`,
    );
    expect(refused.status, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/401/);
  });

  it("pnpm takes a scope's registry from a committed project .npmrc and the token from the pipe's npmrc", async (ctx) => {
    requireTool(ctx, "pnpm", "npm install -g pnpm@10");
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "pnpm" });
    expect(result.status, result.output).toBe(0);
    // Written out literally: current pnpm refuses ${VAR} in a committed .npmrc's registry URLs.
    const app = project({ "package.json": PACKAGE_JSON, ".npmrc": `@acme:registry=${endpoint("npm")}\n` });
    const pnpm = await client(app, `pnpm add @acme/hello --store-dir "$HOME/store"`);
    expect(pnpm.status, pnpm.output).toBe(0);
    expect(seen("npm")).toContainEqual(["@acme/hello/-/hello-1.0.0.tgz", "bearer", 200]);
  });

  it("yarn 1 (classic): the npmrc, with always-auth for unscoped packages", async (ctx) => {
    requireTool(ctx, "yarn", "npm install -g yarn@1");
    const version = await run("yarn", ["--version"], {
      env: { PATH: process.env.PATH ?? "" },
      cwd: clone.dir,
    });
    if (!version.stdout.startsWith("1.")) {
      if (process.env.CI === "true") throw new Error(`yarn on PATH is ${version.stdout}, not yarn 1`);
      ctx.skip(`yarn on PATH is ${version.stdout.trim()}, not yarn 1`);
    }
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "yarn" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const app = project({ "package.json": PACKAGE_JSON });
    const yarn = await client(
      app,
      `yarn add hello-ca @acme/hello --no-progress --non-interactive && ${PRINT}`,
    );
    expect(yarn.status, yarn.output).toBe(0);
    expect(yarn.stdout.trim().split("\n").at(-1)).toBe(SAYS);
    expect(readFileSync(path.join(app, "yarn.lock"), "utf8")).toContain(
      `${endpoint("npm")}hello-ca/-/hello-ca-1.0.0.tgz`,
    );
    expect(seen("npm")).toEqual(
      expect.arrayContaining([
        ["hello-ca", "bearer", 200],
        ["hello-ca/-/hello-ca-1.0.0.tgz", "bearer", 200],
      ]),
    );

    registries.revoke(token);
    const refused = await client(
      project({ "package.json": PACKAGE_JSON }),
      "yarn add hello-ca --no-progress --non-interactive",
    );
    expect(refused.status, refused.output).not.toBe(0);
  });

  // Yarn 2+ reaches the world over plain http only when told the host is fine (the real endpoint is https).
  const BERRY = { YARN_UNSAFE_HTTP_WHITELIST: "127.0.0.1", YARN_ENABLE_TELEMETRY: "0" };

  it("yarn 2+ (berry): YARN_NPM_* variables, only with the token", async (ctx) => {
    requireTool(
      ctx,
      "yarn-berry",
      "npm install -g --prefix /opt/yarn-berry @yarnpkg/cli-dist@4 and link its bin/yarn as yarn-berry",
    );
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "yarn" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const env = readOut("env");
    expect(env).toContain(`export YARN_NPM_REGISTRY_SERVER='${endpoint("npm")}'\n`);
    expect(env).toContain(`export YARN_NPM_AUTH_TOKEN='${token}'\n`);
    expect(env).toContain("export YARN_NPM_ALWAYS_AUTH='true'\n");
    const app = project({ "package.json": PACKAGE_JSON, "yarn.lock": "" });
    const berry = await client(
      app,
      `yarn-berry add hello-ca @acme/hello && yarn-berry node -p "require('hello-ca') + ' / ' + require('@acme/hello')"`,
      BERRY,
    );
    expect(berry.status, berry.output).toBe(0);
    expect(berry.stdout.trim().split("\n").at(-1)).toBe(SAYS);
    expect(seen("npm")).toEqual(
      expect.arrayContaining([
        ["hello-ca", "bearer", 200],
        ["hello-ca/-/hello-ca-1.0.0.tgz", "bearer", 200],
      ]),
    );

    registries.revoke(token);
    const refused = await client(
      project({ "package.json": PACKAGE_JSON, "yarn.lock": "" }),
      "yarn-berry add hello-ca",
      BERRY,
    );
    expect(refused.status, refused.output).not.toBe(0);
  });

  it("yarn 2+ with a scope: the project's npmScopes interpolate CODEARTIFACT_NPM_URL and CODEARTIFACT_AUTH_TOKEN", async (ctx) => {
    requireTool(
      ctx,
      "yarn-berry",
      "npm install -g --prefix /opt/yarn-berry @yarnpkg/cli-dist@4 and link its bin/yarn as yarn-berry",
    );
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "yarn", CODEARTIFACT_NPM_SCOPE: "@acme" });
    expect(result.status, result.output).toBe(0);
    expect(readOut("env")).not.toContain("YARN_NPM_");
    const yarnrc = [
      "npmScopes:",
      "  acme:",
      `    npmRegistryServer: "\${CODEARTIFACT_NPM_URL}"`,
      `    npmAuthToken: "\${CODEARTIFACT_AUTH_TOKEN}"`,
      "    npmAlwaysAuth: true",
      "",
    ].join("\n");
    const app = project({ "package.json": PACKAGE_JSON, "yarn.lock": "", ".yarnrc.yml": yarnrc });
    const berry = await client(
      app,
      `yarn-berry add @acme/hello && yarn-berry node -p "require('@acme/hello')"`,
      BERRY,
    );
    expect(berry.status, berry.output).toBe(0);
    expect(berry.stdout.trim().split("\n").at(-1)).toBe(PACKAGES.npmScoped.says);
    expect(seen("npm")).toContainEqual(["@acme/hello", "bearer", 200]);
  });
});

describe("pip, twine, poetry", () => {
  it("pip download: the wheel from CodeArtifact's simple index, only with the token", async () => {
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "pip" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const simple = `${endpoint("pypi")}simple/`;
    expect(outputs().codeartifact.endpoints).toEqual({ pip: simple });
    expect(readOut("env")).toContain(
      `export PIP_INDEX_URL='${simple.replace("http://", `http://aws:${token}@`)}'\n`,
    );
    const app = project({});
    const pip = await client(
      app,
      `python3 -m pip download --no-deps --no-input -d dist hello-ca && PYTHONPATH=dist/hello_ca-1.0.0-py3-none-any.whl python3 -c 'import hello_ca; print(hello_ca.GREETING)'`,
    );
    expect(pip.status, pip.output).toBe(0);
    expect(pip.stdout.trim().split("\n").at(-1)).toBe(PACKAGES.pypi.says);
    expect(pip.output).not.toContain(token); // pip shows the index as aws:****
    expect(seen("pypi")).toEqual([
      ["simple/hello-ca/", "basic", 200],
      ["simple/hello-ca/hello_ca-1.0.0-py3-none-any.whl", "basic", 200],
    ]);

    registries.revoke(token);
    const refused = await client(
      project({}),
      "python3 -m pip download --no-deps --no-input -d dist hello-ca",
    );
    expect(refused.status, refused.output).not.toBe(0);
    expect(seen("pypi").at(-1)).toEqual(["simple/hello-ca/", "invalid", 401]);
  });

  it("twine upload: to the repository endpoint, only with the token", async (ctx) => {
    requireTool(ctx, "twine", "apt-get install -y twine");
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "twine" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const env = readOut("env");
    expect(env).toContain(`export TWINE_REPOSITORY_URL='${endpoint("pypi")}'\n`);
    expect(env).toContain("export TWINE_USERNAME='aws'\n");
    expect(env).toContain(`export TWINE_PASSWORD='${token}'\n`);
    const built = wheel({ name: "uploaded-pkg", version: "2.0.0", summary: "uploaded by twine", files: [] });
    const app = project({});
    writeFileSync(path.join(app, built.filename), built.content);
    const twine = await client(
      app,
      `twine upload --non-interactive --disable-progress-bar ${built.filename}`,
    );
    expect(twine.status, twine.output).toBe(0);
    expect(registries.uploads).toEqual([
      {
        domain: DOMAIN,
        repository: REPOSITORY,
        name: "uploaded-pkg",
        version: "2.0.0",
        filename: built.filename,
        digestMatches: true,
        size: built.content.length,
      },
    ]);

    registries.revoke(token);
    registries.clear();
    const refused = await client(
      app,
      `twine upload --non-interactive --disable-progress-bar ${built.filename}`,
    );
    expect(refused.status, refused.output).not.toBe(0);
    expect(registries.uploads).toEqual([]);
  });

  it("poetry: a source named codeartifact to lock from, and publish -r codeartifact", async (ctx) => {
    requireTool(ctx, "poetry", "apt-get install -y python3-poetry");
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "poetry" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const env = readOut("env");
    expect(env).toContain("export POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME='aws'\n");
    expect(env).toContain(`export POETRY_HTTP_BASIC_CODEARTIFACT_PASSWORD='${token}'\n`);
    expect(env).toContain(`export POETRY_REPOSITORIES_CODEARTIFACT_URL='${endpoint("pypi")}'\n`);
    expect(env).toContain(`export CODEARTIFACT_PYPI_URL='${endpoint("pypi")}simple/'\n`);
    const pyproject = [
      "[tool.poetry]",
      'name = "po-demo"',
      'version = "0.1.0"',
      'description = "a project that depends on a CodeArtifact package"',
      'authors = ["Acme <dev@example.com>"]',
      'packages = [{ include = "po_demo" }]',
      "",
      "[tool.poetry.dependencies]",
      'python = "^3.9"',
      'hello-ca = "1.0.0"',
      "",
      "[build-system]",
      'requires = ["poetry-core"]',
      'build-backend = "poetry.core.masonry.api"',
      "",
    ].join("\n");
    const app = project({ "pyproject.toml": pyproject, "po_demo/__init__.py": "" });
    const poetry = await client(
      app,
      'poetry source add --default codeartifact "$CODEARTIFACT_PYPI_URL" && poetry lock -n && poetry publish --build -r codeartifact -n',
    );
    expect(poetry.status, poetry.output).toBe(0);
    expect(readFileSync(path.join(app, "poetry.lock"), "utf8")).toMatch(
      /name = "hello-ca"\nversion = "1.0.0"/,
    );
    expect(seen("pypi")).toEqual(expect.arrayContaining([["simple/hello-ca/", "basic", 200]]));
    expect(registries.uploads.map((u) => [u.name, u.version, u.digestMatches])).toEqual([
      ["po-demo", "0.1.0", true],
      ["po-demo", "0.1.0", true],
    ]);

    registries.revoke(token);
    const refused = await client(app, "rm poetry.lock && poetry lock -n");
    expect(refused.status, refused.output).not.toBe(0);
  });
});

describe("maven", () => {
  const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>consumer</artifactId>
  <version>0.1.0</version>
  <packaging>pom</packaging>
</project>
`;
  // A core extension is resolved before any plugin, from the settings' repositories: the jar and
  // its pom come from CodeArtifact with nothing else needed from Maven Central.
  const EXTENSIONS = `<extensions>
  <extension>
    <groupId>${PACKAGES.maven.groupId}</groupId>
    <artifactId>${PACKAGES.maven.artifactId}</artifactId>
    <version>${PACKAGES.maven.version}</version>
  </extension>
</extensions>
`;

  it("mvn -s maven-settings.xml: the pom and jar from CodeArtifact, only with the token", async (ctx) => {
    requireTool(ctx, "mvn", "apt-get install -y maven");
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "maven" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    const settings = readOut("maven-settings.xml");
    expect(settings).not.toContain(token);
    expect(settings).toContain(`<password>\${env.CODEARTIFACT_AUTH_TOKEN}</password>`);
    expect(settings).toContain(`<url>${endpoint("maven")}</url>`);
    expect(readOut("env")).toContain(`export CODEARTIFACT_MAVEN_URL='${endpoint("maven")}'\n`);

    const mvn = (app: string) =>
      client(app, `mvn -B -s '${outDir()}/maven-settings.xml' -Dmaven.repo.local="$HOME/m2" validate`);
    const app = project({ "pom.xml": POM, ".mvn/extensions.xml": EXTENSIONS });
    const built = await mvn(app);
    expect(built.status, built.output).toBe(0);
    expect(built.stdout).toContain("BUILD SUCCESS");
    expect(seen("maven").filter(([, , status]) => status === 200)).toEqual([
      ["com/acme/hello/1.0.0/hello-1.0.0.pom", "basic", 200],
      ["com/acme/hello/1.0.0/hello-1.0.0.pom.sha1", "basic", 200],
      ["com/acme/hello/1.0.0/hello-1.0.0.jar", "basic", 200],
      ["com/acme/hello/1.0.0/hello-1.0.0.jar.sha1", "basic", 200],
    ]);

    registries.revoke(token);
    const refused = await mvn(project({ "pom.xml": POM, ".mvn/extensions.xml": EXTENSIONS }));
    expect(refused.status, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/401/);
  });
});

describe("what can't run here: uv, gradle, nuget", () => {
  it("writes exactly the files and variables those clients read", async () => {
    const { result } = await pipe({ CODEARTIFACT_TOOLS: "uv,gradle,nuget" });
    expect(result.status, result.output).toBe(0);
    const token = caToken();
    expect(outputs().codeartifact.endpoints).toEqual({
      uv: `${endpoint("pypi")}simple/`,
      gradle: endpoint("maven"),
      nuget: `${endpoint("nuget")}v3/index.json`,
    });
    const caLines = readOut("env")
      .split("\n")
      .filter((line) => /CODEARTIFACT|UV_|NUGET|npm|NPM|PIP|YARN|POETRY|TWINE/.test(line));
    const pypiWithToken = `${endpoint("pypi")}simple/`.replace("http://", `http://aws:${token}@`);
    expect(caLines).toEqual([
      `export CODEARTIFACT_AUTH_TOKEN='${token}'`,
      `export CODEARTIFACT_PYPI_URL='${endpoint("pypi")}simple/'`,
      `export UV_DEFAULT_INDEX='${pypiWithToken}'`,
      `export CODEARTIFACT_MAVEN_URL='${endpoint("maven")}'`,
      `export CODEARTIFACT_NUGET_URL='${endpoint("nuget")}v3/index.json'`,
    ]);
    expect(existsSync(path.join(outDir(), "maven-settings.xml"))).toBe(false);
    expect(existsSync(path.join(outDir(), "npmrc"))).toBe(false);
    expect(readOut("nuget.config")).toBe(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="${endpoint("nuget")}v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceCredentials>
    <codeartifact>
      <add key="Username" value="aws" />
      <add key="ClearTextPassword" value="${token}" />
    </codeartifact>
  </packageSourceCredentials>
</configuration>
`);
    expect(statSync(path.join(outDir(), "nuget.config")).mode & 0o777).toBe(0o600);
    // The values survive `.` in a real shell, as a Gradle build script would read them.
    const shell = await client(
      clone.dir,
      'printf "%s\\n" "$UV_DEFAULT_INDEX" "$CODEARTIFACT_MAVEN_URL" "$CODEARTIFACT_AUTH_TOKEN"',
    );
    expect(shell.stdout.split("\n").slice(0, 3)).toEqual([pypiWithToken, endpoint("maven"), token]);
  });
});

describe("requests", () => {
  it("one GetAuthorizationToken and one GetRepositoryEndpoint per format, with the assumed role's credentials", async () => {
    const { result } = await pipe({ CODEARTIFACT_TOOLS: ALL_TOOLS });
    expect(result.status, result.output).toBe(0);
    const ca = world.requests.filter((r) => r.service === "codeartifact");
    expect(ca.filter((r) => r.action === "GetAuthorizationToken").map((r) => r.params)).toEqual([
      { domain: DOMAIN, "domain-owner": DEFAULT_ACCOUNT, duration: "0" },
    ]);
    expect(
      ca
        .filter((r) => r.action === "GetRepositoryEndpoint")
        .map((r) => r.params.format)
        .sort(),
    ).toEqual(["maven", "npm", "nuget", "pypi"]);
    expect(ca.every((r) => r.params.repository === undefined || r.params.repository === REPOSITORY)).toBe(
      true,
    );
    expect(world.requests).toHaveLength(2 + ca.length);
    expect(ca).toHaveLength(5);
    for (const r of ca) expect(world.sessions.get(r.accessKeyId ?? "")?.roleArn).toBe(roleArn);
    // CODEARTIFACT_DURATION_SECONDS 0: the token lasts as long as the session.
    const session = world.sessions.get(ca[0]?.accessKeyId ?? "");
    expect(outputs().codeartifact.expiration).toBe(session?.expiration.toISOString());
    expect(Object.keys(outputs().codeartifact.endpoints)).toEqual(ALL_TOOLS.split(","));
    for (const file of ["npmrc", "maven-settings.xml", "nuget.config"]) {
      expect(statSync(path.join(outDir(), file)).mode & 0o777, file).toBe(0o600);
    }
  });

  it("sends CODEARTIFACT_DURATION_SECONDS and a domain owner as given", async () => {
    world.codeartifact.addDomain({ domain: "shared", owner: "222222222222", repositories: [REPOSITORY] });
    const before = Date.now();
    const { result } = await pipe({
      CODEARTIFACT_DOMAIN: "shared",
      CODEARTIFACT_DOMAIN_OWNER: "222222222222",
      CODEARTIFACT_DURATION_SECONDS: "900",
    });
    expect(result.status, result.output).toBe(0);
    const params = world.requests.filter((r) => r.service === "codeartifact").map((r) => r.params);
    expect(params).toContainEqual({ domain: "shared", "domain-owner": "222222222222", duration: "900" });
    expect(params).toContainEqual({
      domain: "shared",
      "domain-owner": "222222222222",
      repository: REPOSITORY,
      format: "npm",
    });
    const expiration = Date.parse(outputs().codeartifact.expiration);
    expect(expiration).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expiration).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(outputs().codeartifact.endpoints.npm).toContain("/ca/shared-222222222222/npm/store/");
  });

  it("runs every call after the assume at once: two round trips in all", async () => {
    const latency = 200;
    world.setLatency(latency);
    const { result, ms } = await pipe({ CODEARTIFACT_TOOLS: ALL_TOOLS });
    expect(result.status, result.output).toBe(0);
    const [assume, ...after] = world.requests;
    expect(assume?.action).toBe("AssumeRoleWithWebIdentity");
    expect(after.map((r) => r.action).sort()).toEqual([
      "GetAuthorizationToken",
      "GetCallerIdentity",
      "GetRepositoryEndpoint",
      "GetRepositoryEndpoint",
      "GetRepositoryEndpoint",
      "GetRepositoryEndpoint",
    ]);
    const arrivals = after.map((r) => r.at);
    const spread = Math.max(...arrivals) - Math.min(...arrivals);
    // Answered at (arrival + latency): the phase after the assume, from its answer to the last answer.
    const phase = Math.max(...arrivals) + latency - ((assume?.at ?? 0) + latency);
    process.stdout.write(
      `[codeartifact timing] latency ${latency} ms: six calls after the assume arrived within ${spread} ms; that phase took ${phase} ms; the whole run ${ms} ms\n`,
    );
    // Sequential calls would arrive a whole round trip apart.
    expect(spread).toBeLessThan(latency);
    expect(phase).toBeLessThan(4 * latency);
  });

  it("retries a transient CodeArtifact fault and still makes one call per format in the end", async () => {
    world.fault({
      action: "codeartifact:GetRepositoryEndpoint",
      status: 503,
      code: "ServiceUnavailableException",
    });
    const { result } = await pipe({
      CODEARTIFACT_TOOLS: "npm,pip",
      BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01",
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(
      /^WARNING: codeartifact:GetRepositoryEndpoint \((npm|pypi)\): ServiceUnavailableException/m,
    );
    const ok = world.requests.filter((r) => r.action === "GetRepositoryEndpoint" && r.status === 200);
    expect(ok.map((r) => r.params.format).sort()).toEqual(["npm", "pypi"]);
  });

  it("gives up on a CodeArtifact that keeps failing: exit 4, no files", async () => {
    world.fault({
      action: "codeartifact:GetAuthorizationToken",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const { result } = await pipe({ AWS_MAX_ATTEMPTS: "2", BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" });
    expect(result.status, result.output).toBe(4);
    for (const file of CREDENTIAL_FILES) expect(existsSync(path.join(outDir(), file)), file).toBe(false);
  });
});

describe("refusals", () => {
  it("a role without CodeArtifact permissions: exit 3 naming what to grant, and no credential file left", async () => {
    // An earlier, successful run left files that a later `source` must not pick up.
    expect((await pipe({ CODEARTIFACT_TOOLS: ALL_TOOLS })).result.status).toBe(0);
    expect(existsSync(path.join(outDir(), "npmrc"))).toBe(true);
    const { result } = await pipe({ AWS_ROLE_ARN: deniedRoleArn, CODEARTIFACT_TOOLS: ALL_TOOLS });
    expect(result.status, result.output).toBe(3);
    // Every call is refused; whichever answer comes first is reported, and the others are dropped.
    expect(result.stdout).toMatch(
      /AWS refused codeartifact:(GetAuthorizationToken|GetRepositoryEndpoint \(\w+\)) for the domain acme \(owner 111111111111, ap-southeast-2\), repository store: AccessDeniedException \(HTTP 403\)/,
    );
    for (const action of [
      "codeartifact:GetAuthorizationToken",
      "codeartifact:GetRepositoryEndpoint",
      "codeartifact:ReadFromRepository",
      "sts:GetServiceBearerToken",
    ]) {
      expect(result.stdout).toContain(action);
    }
    expect(result.stdout).toContain(
      `arn:aws:codeartifact:ap-southeast-2:${DEFAULT_ACCOUNT}:repository/${DOMAIN}/${REPOSITORY}`,
    );
    // The ✖ line says what to grant. (It should be the last line; src/pipe.ts does not yet stop a
    // GetCallerIdentity still in flight when a feature fails, which can add a retry warning after it.)
    expect(result.stdout).toMatch(/^ERROR: AWS refused codeartifact:/m);
    expect(result.stdout).toMatch(/^✖ Give the role .*codeartifact:ReadFromRepository/m);
    // The login's own calls stop at the first refusal: no retry, no warning, nothing after it.
    expect(result.stdout).not.toMatch(/WARNING: codeartifact:/);
    for (const file of CREDENTIAL_FILES) expect(existsSync(path.join(outDir(), file)), file).toBe(false);
  });

  it("a repository or domain that is not there: exit 3, check the names", async () => {
    const wrongRepository = await pipe({ CODEARTIFACT_REPOSITORY: "no-such-repo" });
    expect(wrongRepository.result.status, wrongRepository.result.output).toBe(3);
    expect(wrongRepository.result.stdout).toMatch(
      /AWS refused codeartifact:GetRepositoryEndpoint \(npm\) for the domain acme .*repository no-such-repo: ResourceNotFoundException \(HTTP 404\)/,
    );
    expect(wrongRepository.result.stdout).toMatch(
      /^✖ .*Check CODEARTIFACT_DOMAIN \(acme\), CODEARTIFACT_REPOSITORY \(no-such-repo\)/m,
    );
    const wrongDomain = await pipe({ CODEARTIFACT_DOMAIN: "nowhere" });
    expect(wrongDomain.result.status, wrongDomain.result.output).toBe(3);
    expect(wrongDomain.result.stdout).toMatch(/ResourceNotFoundException/);
    for (const file of CREDENTIAL_FILES) expect(existsSync(path.join(outDir(), file)), file).toBe(false);
  });

  for (const [variables, named] of [
    [{ CODEARTIFACT_TOOLS: "npm,gem" }, /CODEARTIFACT_TOOLS: unknown tool "gem"/],
    [{ CODEARTIFACT_NPM_SCOPE: "acme" }, /CODEARTIFACT_NPM_SCOPE must be an npm scope like @acme/],
    [
      { CODEARTIFACT_NPM_SCOPE: "@acme", CODEARTIFACT_TOOLS: "pip" },
      /CODEARTIFACT_NPM_SCOPE is set but CODEARTIFACT_TOOLS has no npm/,
    ],
    [{ CODEARTIFACT_REPOSITORY: undefined }, /CODEARTIFACT_REPOSITORY is required with CODEARTIFACT_DOMAIN/],
    [{ CODEARTIFACT_DURATION_SECONDS: "60" }, /CODEARTIFACT_DURATION_SECONDS must be a whole number 0/],
    [{ CODEARTIFACT_DOMAIN_OWNER: "acme" }, /CODEARTIFACT_DOMAIN_OWNER must be a 12-digit AWS account id/],
  ] as const) {
    it(`refuses ${JSON.stringify(variables)} before any request: exit 2`, async () => {
      const { result } = await pipe(variables);
      expect(result.status, result.output).toBe(2);
      expect(result.stdout).toMatch(named);
      expect(world.requests).toEqual([]);
    });
  }
});

describe("secrets", () => {
  it("never prints the CodeArtifact token, even with DEBUG=true, and masks the owner with MASK_ACCOUNT_ID", async () => {
    const ok = await pipe({ DEBUG: "true", CODEARTIFACT_TOOLS: ALL_TOOLS });
    expect(ok.result.status, ok.result.output).toBe(0);
    const token = caToken();
    const masked = await pipe({
      DEBUG: "true",
      MASK_ACCOUNT_ID: "true",
      CODEARTIFACT_TOOLS: "pip,twine,poetry",
    });
    const denied = await pipe({ DEBUG: "true", AWS_ROLE_ARN: deniedRoleArn });
    expect([masked.result.status, denied.result.status]).toEqual([0, 3]);
    const issued = [
      ...world.codeartifact.issuedTokens,
      ...[...world.sessions.values()].flatMap((s) => [s.secretAccessKey, s.sessionToken]),
    ];
    for (const { token: stepToken, result } of [ok, masked, denied]) {
      expect(result.output).toMatch(/DEBUG: /);
      for (const piece of secretPieces(stepToken, issued)) expect(result.output).not.toContain(piece);
      for (const caPiece of world.codeartifact.issuedTokens.flatMap((t) => secretPieces(t, []))) {
        expect(result.output).not.toContain(caPiece);
      }
    }
    expect(ok.result.stdout).toMatch(/^INFO: CodeArtifact pip: index .*\/simple\/ \(PIP_INDEX_URL\)\.$/m);
    expect(ok.result.stdout).not.toContain(`aws:${token.slice(0, 8)}`);
    expect(masked.result.output).not.toContain(DEFAULT_ACCOUNT);
    expect(masked.result.stdout).toContain("acme-************/pypi/store/");
  });
});
