import { describe, expect, it } from "vitest";
import { parseConfig, readConfig } from "../../src/config/parse.ts";
import { InputErrors } from "../../src/errors.ts";
import { base, problems, ROLE } from "../support/config.ts";

/**
 * The entry of config/ (src/config/parse.ts): every variable at once, the defaults, the rules
 * across concerns; each concern's own rules are tested beside it (roles, endpoints, outputDir, …).
 */

describe("parseConfig", () => {
  it("applies the contract's defaults", () => {
    const config = parseConfig(
      { ...base, BITBUCKET_REPO_SLUG: "web", BITBUCKET_BUILD_NUMBER: "42" },
      "/build",
    );
    expect(config).toMatchObject({
      roleArn: ROLE,
      region: "ap-southeast-2",
      sessionName: "bitbucket-web-42",
      durationSeconds: 3600,
      mode: "static",
      verify: true,
      maskAccountId: false,
      outputDir: "/build/.aws-oidc",
      maxAttempts: 5,
      codeartifact: undefined,
      ecr: undefined,
    });
  });

  it("reports every problem at once, each naming its variable", () => {
    const found = problems({
      AWS_ROLE_ARN: "arn:aws:iam::12:role/x",
      AWS_REGION: "Sydney",
      AWS_ROLE_DURATION_SECONDS: "60",
      VERIFY: "yes",
      CREDENTIALS_MODE: "keys",
    });
    expect(found).toHaveLength(5);
    for (const name of [
      "AWS_ROLE_ARN",
      "AWS_REGION",
      "AWS_ROLE_DURATION_SECONDS",
      "VERIFY",
      "CREDENTIALS_MODE",
    ]) {
      expect(found.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it("treats empty values as unset (Bitbucket passes undefined variables as empty strings)", () => {
    const config = parseConfig({ ...base, AWS_ROLE_DURATION_SECONDS: "", VERIFY: "  " }, "/build");
    expect([config.durationSeconds, config.verify]).toEqual([3600, true]);
    expect(problems({ ...base, AWS_ROLE_ARN: " " })[0]).toMatch(/^AWS_ROLE_ARN is required/);
  });

  it("takes booleans in any case", () => {
    expect(parseConfig({ ...base, VERIFY: "FALSE", MASK_ACCOUNT_ID: "True" }, "/build")).toMatchObject({
      verify: false,
      maskAccountId: true,
    });
  });

  it("validates allowed accounts, CodeArtifact and ECR variables", () => {
    expect(problems({ ...base, AWS_ALLOWED_ACCOUNT_IDS: "123456789012,12345" })[0]).toMatch(
      /^AWS_ALLOWED_ACCOUNT_IDS/,
    );
    expect(problems({ ...base, CODEARTIFACT_DOMAIN: "acme" })[0]).toMatch(
      /^CODEARTIFACT_REPOSITORY is required/,
    );
    expect(
      problems({
        ...base,
        CODEARTIFACT_DOMAIN: "acme",
        CODEARTIFACT_REPOSITORY: "npm",
        CODEARTIFACT_TOOLS: "npm,cargo",
      })[0],
    ).toMatch(/^CODEARTIFACT_TOOLS: unknown tool "cargo"/);
    expect(problems({ ...base, CODEARTIFACT_TOOLS: "pip" })[0]).toMatch(
      /^CODEARTIFACT_TOOLS is set but CodeArtifact is off/,
    );
    expect(problems({ ...base, ECR_REGISTRY_IDS: "123456789012" })[0]).toMatch(
      /^ECR_REGISTRY_IDS is set but ECR_LOGIN/,
    );
    const ca = parseConfig(
      {
        ...base,
        CODEARTIFACT_DOMAIN: "acme",
        CODEARTIFACT_REPOSITORY: "store",
        CODEARTIFACT_TOOLS: "NPM, pip npm",
      },
      "/build",
    ).codeartifact;
    expect(ca).toEqual({
      domain: "acme",
      repository: "store",
      domainOwner: undefined,
      tools: ["npm", "pip"],
      npmScope: undefined,
      durationSeconds: 0,
    });
  });

  it("reads the retry time scale only from the test knob, above 0 and at most 1", () => {
    expect(parseConfig(base, "/build").retryTimeScale).toBe(1);
    expect(
      parseConfig({ ...base, BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" }, "/build").retryTimeScale,
    ).toBe(0.01);
    expect(parseConfig({ ...base, RETRY_TIME_SCALE: "0.01" }, "/build").retryTimeScale).toBe(1);
    for (const bad of ["0", "2", "fast"]) {
      expect(problems({ ...base, BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: bad })[0]).toMatch(
        /^BITBUCKET_AWS_OIDC_TEST_TIME_SCALE must be a number above 0 and at most 1/,
      );
    }
  });

  it("ECR: the registry ids only with ECR_LOGIN, each a 12-digit account", () => {
    expect(parseConfig({ ...base, ECR_LOGIN: "true" }, "/build").ecr).toEqual({ registryIds: [] });
    expect(
      parseConfig(
        { ...base, ECR_LOGIN: "TRUE", ECR_REGISTRY_IDS: "111111111111 222222222222,111111111111" },
        "/build",
      ).ecr,
    ).toEqual({ registryIds: ["111111111111", "222222222222"] });
    expect(problems({ ...base, ECR_LOGIN: "true", ECR_REGISTRY_IDS: "12" })[0]).toMatch(
      /^ECR_REGISTRY_IDS must be/,
    );
  });
});

describe("readConfig", () => {
  it("gives the Config, or every problem with the output folder when OUTPUT_DIR itself is sound", () => {
    const good = readConfig({ ...base, OUTPUT_DIR: "creds" }, "/build");
    expect(good.problems).toBeUndefined();
    expect(good.config?.outputDir).toBe("/build/creds");

    const bad = readConfig({ ...base, OUTPUT_DIR: "creds", VERIFY: "maybe", AWS_REGION: "" }, "/build");
    expect(bad).toEqual({
      problems: [expect.stringMatching(/^AWS_REGION is required/), expect.stringMatching(/^VERIFY must be/)],
      outputDir: "/build/creds",
      cloneDir: "/build",
    });
  });

  it("gives no output folder when OUTPUT_DIR is the problem, so that nothing is removed there", () => {
    expect(readConfig({ ...base, OUTPUT_DIR: "../elsewhere" }, "/build")).toMatchObject({
      outputDir: undefined,
    });
    expect(readConfig({ ...base, OUTPUT_DIR: "a\nb" }, "/build")).toMatchObject({ outputDir: undefined });
    // A folder the SDKs' INI reader cannot take is refused for profile runs only: it is still the folder.
    expect(
      readConfig(
        { ...base, OUTPUT_DIR: "creds ;x", CREDENTIALS_MODE: "web-identity", AWS_PROFILES: `dev=${ROLE}` },
        "/build",
      ),
    ).toMatchObject({ outputDir: "/build/creds ;x" });
  });

  it("parseConfig throws the same problems as one InputErrors", () => {
    expect(() => parseConfig({ ...base, VERIFY: "maybe" }, "/build")).toThrow(InputErrors);
  });
});
