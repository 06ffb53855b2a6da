import { describe, expect, it } from "vitest";
import { toolLogins } from "../../../src/features/codeartifact/index.ts";
import { MAVEN, NPM, NUGET, PYPI, TOKEN } from "../../support/codeartifact.ts";

/** The tool families joined (src/features/codeartifact/index.ts). */

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
