import { describe, expect, it } from "vitest";
import type { CodeArtifactTool } from "../../../src/config/codeartifact.ts";
import { npmLogin, registryKey, renderNpmrc } from "../../../src/features/codeartifact/npm.ts";
import { HOST, NPM, NPMRC, TOKEN } from "../../support/codeartifact.ts";

/** npm, pnpm and yarn (src/features/codeartifact/npm.ts): the npmrc and the variables each reads. */

const npm = (tools: CodeArtifactTool[], scope?: string) =>
  npmLogin({
    endpoint: NPM,
    token: TOKEN,
    scope,
    tools,
    npmrcPath: NPMRC,
    npmrcDisplay: ".aws-oidc/npmrc",
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
