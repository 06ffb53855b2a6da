import { describe, expect, it } from "vitest";
import type { CodeArtifactTool } from "../../src/config/codeartifact.ts";
import { codeArtifactRefusal, NEEDED_ACTIONS } from "../../src/features/codeartifact/api.ts";
import { toolLogins } from "../../src/features/codeartifact/index.ts";
import { formatsFor, withSlash } from "../../src/features/codeartifact/login.ts";
import { mavenLogin, renderMavenSettings } from "../../src/features/codeartifact/maven.ts";
import { npmLogin, registryKey, renderNpmrc } from "../../src/features/codeartifact/npm.ts";
import { nugetLogin } from "../../src/features/codeartifact/nuget.ts";
import { indexUrlWithToken, pythonLogin } from "../../src/features/codeartifact/python.ts";

const HOST = "acme-111111111111.d.codeartifact.ap-southeast-2.amazonaws.com";
const NPM = `https://${HOST}/npm/npm-store/`;
const PYPI = `https://${HOST}/pypi/py-store/`;
const MAVEN = `https://${HOST}/maven/mvn-store/`;
const NUGET = `https://${HOST}/nuget/nuget-store/`;
/** Real tokens are base64url; this one also has the characters quoting bugs trip over. */
const TOKEN = "eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc/def+ghi=&<\"'>";
const NPMRC = "/build/.aws-oidc/npmrc";

const npm = (tools: CodeArtifactTool[], scope?: string) =>
  npmLogin({
    endpoint: NPM,
    token: TOKEN,
    scope,
    tools,
    npmrcPath: NPMRC,
    npmrcDisplay: ".aws-oidc/npmrc",
  });

describe("formats", () => {
  it("asks for each format once, in the order of the tools", () => {
    expect(formatsFor(["npm"])).toEqual(["npm"]);
    expect(formatsFor(["pip", "yarn", "pnpm", "twine", "gradle", "maven", "nuget", "npm"])).toEqual([
      "pypi",
      "npm",
      "maven",
      "nuget",
    ]);
    expect(withSlash("https://x/npm/r")).toBe("https://x/npm/r/");
    expect(withSlash("https://x/npm/r/")).toBe("https://x/npm/r/");
  });
});

describe("npm, pnpm, yarn", () => {
  it("keys the token by host and path, keeping a port", () => {
    expect(registryKey(NPM)).toBe(`//${HOST}/npm/npm-store/`);
    expect(registryKey("http://127.0.0.1:4873/ca/acme-111111111111/npm/r/")).toBe(
      "//127.0.0.1:4873/ca/acme-111111111111/npm/r/",
    );
  });

  it("npm alone: the whole registry, from the npmrc NPM_CONFIG_USERCONFIG names", () => {
    const login = npm(["npm"]);
    expect(login.files).toEqual([
      { name: "npmrc", content: `registry=${NPM}\n//${HOST}/npm/npm-store/:_authToken=${TOKEN}\n` },
    ]);
    expect(login.env).toEqual([
      { name: "NPM_CONFIG_USERCONFIG", value: NPMRC },
      { name: "CODEARTIFACT_NPM_URL", value: NPM },
    ]);
    expect(login.endpoints).toEqual({ npm: NPM });
    expect(login.lines).toEqual([
      `CodeArtifact npm: ${NPM} serves every package, from .aws-oidc/npmrc (NPM_CONFIG_USERCONFIG).`,
    ]);
  });

  it("a scope: only @acme goes to CodeArtifact", () => {
    const login = npm(["npm", "pnpm"], "@acme");
    expect(login.files[0]?.content).toBe(
      `@acme:registry=${NPM}\n//${HOST}/npm/npm-store/:_authToken=${TOKEN}\n`,
    );
    expect(login.env.map((e) => e.name)).toEqual(["NPM_CONFIG_USERCONFIG", "CODEARTIFACT_NPM_URL"]);
    expect(login.endpoints).toEqual({ npm: NPM, pnpm: NPM });
    expect(login.lines[1]).toMatch(/^CodeArtifact pnpm: .* serves only @acme/);
  });

  it("yarn: classic's npmrc with always-auth, berry's variables", () => {
    const login = npm(["yarn"]);
    expect(login.files[0]?.content).toBe(
      `registry=${NPM}\n//${HOST}/npm/npm-store/:_authToken=${TOKEN}\n//${HOST}/npm/npm-store/:always-auth=true\n`,
    );
    expect(login.env).toEqual([
      { name: "NPM_CONFIG_USERCONFIG", value: NPMRC },
      { name: "CODEARTIFACT_NPM_URL", value: NPM },
      { name: "npm_config_userconfig", value: NPMRC },
      { name: "YARN_NPM_REGISTRY_SERVER", value: NPM },
      { name: "YARN_NPM_AUTH_TOKEN", value: TOKEN },
      { name: "YARN_NPM_ALWAYS_AUTH", value: "true" },
    ]);
    expect(login.endpoints).toEqual({ yarn: NPM });
  });

  it("yarn with a scope: no berry variables, which would send every package (and the token) to CodeArtifact", () => {
    const login = npm(["yarn"], "@acme");
    expect(login.files[0]?.content).toBe(
      `@acme:registry=${NPM}\n//${HOST}/npm/npm-store/:_authToken=${TOKEN}\n`,
    );
    expect(login.env).toEqual([
      { name: "NPM_CONFIG_USERCONFIG", value: NPMRC },
      { name: "CODEARTIFACT_NPM_URL", value: NPM },
      { name: "npm_config_userconfig", value: NPMRC },
    ]);
    expect(login.lines[0]).toContain("npmScopes");
  });

  it("never puts the token in a log line", () => {
    for (const login of [npm(["npm", "pnpm", "yarn"]), npm(["yarn"], "@acme")]) {
      for (const line of login.lines) expect(line).not.toContain(TOKEN.slice(0, 30));
    }
  });

  it("renders the npmrc the same way renderNpmrc does", () => {
    const inputs = {
      endpoint: NPM,
      token: TOKEN,
      scope: undefined,
      tools: ["npm"] as CodeArtifactTool[],
      npmrcPath: NPMRC,
      npmrcDisplay: "x",
    };
    expect(npmLogin(inputs).files[0]?.content).toBe(renderNpmrc(inputs));
  });
});

describe("pip, uv, poetry, twine", () => {
  it("puts aws:<token> into the index URL, percent-encoded", () => {
    const url = indexUrlWithToken(PYPI, TOKEN);
    expect(url).toBe(`https://aws:${encodeURIComponent(TOKEN)}@${HOST}/pypi/py-store/simple/`);
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe(TOKEN);
    expect(parsed.username).toBe("aws");
  });

  it("gives each tool exactly what it reads", () => {
    const login = pythonLogin({ endpoint: PYPI, token: TOKEN, tools: ["pip", "uv", "poetry", "twine"] });
    const withToken = indexUrlWithToken(PYPI, TOKEN);
    expect(login.env).toEqual([
      { name: "CODEARTIFACT_PYPI_URL", value: `${PYPI}simple/` },
      { name: "PIP_INDEX_URL", value: withToken },
      { name: "UV_DEFAULT_INDEX", value: withToken },
      { name: "POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME", value: "aws" },
      { name: "POETRY_HTTP_BASIC_CODEARTIFACT_PASSWORD", value: TOKEN },
      { name: "POETRY_REPOSITORIES_CODEARTIFACT_URL", value: PYPI },
      { name: "TWINE_REPOSITORY_URL", value: PYPI },
      { name: "TWINE_USERNAME", value: "aws" },
      { name: "TWINE_PASSWORD", value: TOKEN },
    ]);
    expect(login.files).toEqual([]);
    expect(login.endpoints).toEqual({
      pip: `${PYPI}simple/`,
      uv: `${PYPI}simple/`,
      poetry: `${PYPI}simple/`,
      twine: PYPI,
    });
    for (const line of login.lines) expect(line).not.toContain("aws:");
  });

  it("only what was asked for", () => {
    expect(pythonLogin({ endpoint: PYPI, token: TOKEN, tools: ["uv"] }).env.map((e) => e.name)).toEqual([
      "CODEARTIFACT_PYPI_URL",
      "UV_DEFAULT_INDEX",
    ]);
  });
});

describe("maven, gradle", () => {
  it("writes a settings file whose server, repository and plugin repository share one id, with no secret in it", () => {
    expect(renderMavenSettings(MAVEN)).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">
  <servers>
    <server>
      <id>codeartifact</id>
      <username>aws</username>
      <password>\${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles>
    <profile>
      <id>codeartifact</id>
      <repositories>
        <repository>
          <id>codeartifact</id>
          <url>${MAVEN}</url>
        </repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository>
          <id>codeartifact</id>
          <url>${MAVEN}</url>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>codeartifact</activeProfile>
  </activeProfiles>
</settings>
`);
  });

  it("maven gets the file, gradle the URL only", () => {
    const both = mavenLogin({
      endpoint: MAVEN,
      tools: ["maven", "gradle"],
      settingsDisplay: "o/maven-settings.xml",
    });
    expect(both.env).toEqual([{ name: "CODEARTIFACT_MAVEN_URL", value: MAVEN }]);
    expect(both.files.map((f) => f.name)).toEqual(["maven-settings.xml"]);
    expect(both.endpoints).toEqual({ maven: MAVEN, gradle: MAVEN });
    const gradle = mavenLogin({ endpoint: MAVEN, tools: ["gradle"], settingsDisplay: "x" });
    expect(gradle.files).toEqual([]);
    expect(gradle.env).toEqual([{ name: "CODEARTIFACT_MAVEN_URL", value: MAVEN }]);
  });
});

describe("nuget", () => {
  it("writes the V3 index as a source with the token as ClearTextPassword, XML-escaped", () => {
    const login = nugetLogin({ endpoint: NUGET, token: TOKEN, configDisplay: ".aws-oidc/nuget.config" });
    expect(login.files).toEqual([
      {
        name: "nuget.config",
        content: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="${NUGET}v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceCredentials>
    <codeartifact>
      <add key="Username" value="aws" />
      <add key="ClearTextPassword" value="eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc/def+ghi=&amp;&lt;&quot;&apos;&gt;" />
    </codeartifact>
  </packageSourceCredentials>
</configuration>
`,
      },
    ]);
    expect(login.env).toEqual([{ name: "CODEARTIFACT_NUGET_URL", value: `${NUGET}v3/index.json` }]);
    expect(login.endpoints).toEqual({ nuget: `${NUGET}v3/index.json` });
  });
});

describe("toolLogins", () => {
  const endpoints = new Map([
    ["npm", NPM],
    ["pypi", PYPI],
    ["maven", MAVEN],
    ["nuget", NUGET],
  ] as const);

  it("joins the families, each file once", () => {
    const logins = toolLogins({
      tools: ["npm", "pnpm", "yarn", "pip", "uv", "poetry", "twine", "maven", "gradle", "nuget"],
      endpoints,
      token: TOKEN,
      scope: undefined,
      outputDir: "/build/.aws-oidc",
      outputDirDisplay: ".aws-oidc/",
    });
    expect(logins.flatMap((l) => l.files.map((f) => f.name))).toEqual([
      "npmrc",
      "maven-settings.xml",
      "nuget.config",
    ]);
    const names = logins.flatMap((l) => l.env.map((e) => e.name));
    expect(new Set(names).size).toBe(names.length);
    expect(logins.flatMap((l) => l.lines)).toHaveLength(10);
    expect(logins[0]?.env[0]).toEqual({ name: "NPM_CONFIG_USERCONFIG", value: "/build/.aws-oidc/npmrc" });
    expect(logins.flatMap((l) => l.lines).join("\n")).toContain("mvn -s .aws-oidc/maven-settings.xml");
  });

  it("leaves out a family whose endpoint was not asked for", () => {
    const logins = toolLogins({
      tools: ["pip"],
      endpoints: new Map([["pypi", PYPI]]),
      token: TOKEN,
      scope: undefined,
      outputDir: "/b/o",
      outputDirDisplay: "o",
    });
    expect(logins.flatMap((l) => l.files)).toEqual([]);
    expect(logins.flatMap((l) => l.env.map((e) => e.name))).toEqual([
      "CODEARTIFACT_PYPI_URL",
      "PIP_INDEX_URL",
    ]);
  });
});

describe("refusals", () => {
  const target = { domain: "acme", repository: "npm-store", owner: "222222222222", region: "cn-north-1" };
  const denied = Object.assign(
    new Error("User: x is not authorized to perform: codeartifact:GetAuthorizationToken"),
    {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 403 },
    },
  );

  it("names the domain, repository, owner and every action needed, with the partition's ARNs", () => {
    const error = codeArtifactRefusal("codeartifact:GetAuthorizationToken", denied, target, "111111111111");
    expect(error.kind).toBe("refused");
    expect(error.message).toBe(
      "AWS refused codeartifact:GetAuthorizationToken for the domain acme (owner 222222222222, cn-north-1), repository npm-store: AccessDeniedException (HTTP 403): User: x is not authorized to perform: codeartifact:GetAuthorizationToken",
    );
    const text = [...error.details, error.fix].join("\n");
    for (const action of NEEDED_ACTIONS) expect(text).toContain(action);
    expect(text).toContain("arn:aws-cn:codeartifact:cn-north-1:222222222222:domain/acme");
    expect(text).toContain("arn:aws-cn:codeartifact:cn-north-1:222222222222:repository/acme/npm-store");
    expect(text).toContain("codeartifact.amazonaws.com");
    expect(text).toContain("belongs to account 222222222222, not the role's (111111111111)");
  });

  it("says to check the names for a domain or repository that is not there", () => {
    const missing = Object.assign(new Error("Repository not found."), {
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
    const error = codeArtifactRefusal(
      "codeartifact:GetRepositoryEndpoint (npm)",
      missing,
      target,
      "222222222222",
    );
    expect(error.fix).toMatch(/^Check CODEARTIFACT_DOMAIN \(acme\), CODEARTIFACT_REPOSITORY \(npm-store\)/);
    expect(error.details.join("\n")).not.toContain("belongs to account");
  });
});
