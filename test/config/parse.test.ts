import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.ts";
import { defaultSessionName } from "../../src/config/roles.ts";
import { InputErrors } from "../../src/errors.ts";

const ROLE = "arn:aws:iam::123456789012:role/deploy";
const base = { AWS_ROLE_ARN: ROLE, AWS_REGION: "ap-southeast-2", BITBUCKET_CLONE_DIR: "/build" };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseConfig(env, "/build");
  } catch (error) {
    expect(error).toBeInstanceOf(InputErrors);
    return [...(error as InputErrors).problems];
  }
  throw new Error("expected the configuration to be refused");
}

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

  it("accepts the aliases and refuses a conflicting pair", () => {
    const config = parseConfig({ AWS_OIDC_ROLE_ARN: ROLE, AWS_DEFAULT_REGION: "eu-west-1" }, "/w");
    expect([config.roleArn, config.region]).toEqual([ROLE, "eu-west-1"]);
    expect(problems({ ...base, AWS_OIDC_ROLE_ARN: "arn:aws:iam::123456789012:role/other" })[0]).toMatch(
      /AWS_ROLE_ARN and AWS_OIDC_ROLE_ARN/,
    );
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

  it("checks session policies locally", () => {
    expect(problems({ ...base, AWS_SESSION_POLICY: "{not json" })[0]).toMatch(
      /^AWS_SESSION_POLICY is not valid JSON/,
    );
    expect(problems({ ...base, AWS_SESSION_POLICY: "[]" })[0]).toMatch(
      /^AWS_SESSION_POLICY must be a JSON policy/,
    );
    const big = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "x".repeat(2100) }],
    });
    expect(problems({ ...base, AWS_SESSION_POLICY: big })[0]).toMatch(/2048/);
    const arns = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`).join(",");
    expect(problems({ ...base, AWS_SESSION_POLICY_ARNS: arns })[0]).toMatch(
      /^AWS_SESSION_POLICY_ARNS lists 11/,
    );
    const policy = '{ "Version": "2012-10-17", "Statement": [] }';
    expect(parseConfig({ ...base, AWS_SESSION_POLICY: policy }, "/build").sessionPolicy).toBe(
      '{"Version":"2012-10-17","Statement":[]}',
    );
  });

  it("refuses session policies in web-identity mode", () => {
    const found = problems({
      ...base,
      CREDENTIALS_MODE: "web-identity",
      AWS_SESSION_POLICY_ARNS: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    expect(found[0]).toMatch(/^CREDENTIALS_MODE web-identity cannot carry AWS_SESSION_POLICY/);
  });

  it("keeps OUTPUT_DIR inside the clone directory", () => {
    expect(problems({ ...base, OUTPUT_DIR: "../elsewhere" })[0]).toMatch(
      /^OUTPUT_DIR .* inside BITBUCKET_CLONE_DIR/,
    );
    expect(problems({ ...base, OUTPUT_DIR: "/tmp/x" })[0]).toMatch(/^OUTPUT_DIR/);
    expect(problems({ ...base, OUTPUT_DIR: "." })[0]).toMatch(/^OUTPUT_DIR/);
    expect(parseConfig({ ...base, OUTPUT_DIR: "sub/creds" }, "/build").outputDir).toBe("/build/sub/creds");
  });

  it("refuses plain http endpoints except on loopback", () => {
    expect(problems({ ...base, AWS_ENDPOINT_URL: "http://sts.example.com" })[0]).toMatch(
      /^AWS_ENDPOINT_URL uses plain http/,
    );
    expect(problems({ ...base, AWS_ENDPOINT_URL_STS: "http://10.0.0.1:8080" })[0]).toMatch(
      /^AWS_ENDPOINT_URL_STS/,
    );
    const config = parseConfig(
      { ...base, AWS_ENDPOINT_URL: "http://127.0.0.1:4566", AWS_ENDPOINT_URL_STS: "http://[::1]:1" },
      "/build",
    );
    expect(config.endpoints).toEqual({
      sts: "http://[::1]:1",
      codeartifact: "http://127.0.0.1:4566",
      ecr: "http://127.0.0.1:4566",
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

  it("parses profiles and refuses reserved or repeated names", () => {
    const config = parseConfig(
      {
        ...base,
        AWS_PROFILES: "dev=arn:aws:iam::111111111111:role/a,\nprod=arn:aws:iam::222222222222:role/b",
      },
      "/build",
    );
    expect(config.profiles).toEqual([
      { name: "dev", roleArn: "arn:aws:iam::111111111111:role/a" },
      { name: "prod", roleArn: "arn:aws:iam::222222222222:role/b" },
    ]);
    expect(problems({ ...base, AWS_PROFILES: "default=arn:aws:iam::111111111111:role/a" })[0]).toMatch(
      /reserved/,
    );
    expect(problems({ ...base, AWS_PROFILES: "dev" })[0]).toMatch(/^AWS_PROFILES must be name=roleArn/);
  });

  it("never echoes a long bad value whole", () => {
    const secretLooking = `${"AKIA".padEnd(60, "X")} !`;
    const found = problems({ ...base, AWS_ROLE_SESSION_NAME: secretLooking });
    expect(found[0]).not.toContain(secretLooking);
  });
});

describe("defaultSessionName", () => {
  it("sanitises the slug and cuts to 64 characters", () => {
    expect(defaultSessionName({ BITBUCKET_REPO_SLUG: "my repo/ü", BITBUCKET_BUILD_NUMBER: "7" })).toBe(
      "bitbucket-my-repo---7",
    );
    const long = defaultSessionName({ BITBUCKET_REPO_SLUG: "x".repeat(100), BITBUCKET_BUILD_NUMBER: "1" });
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
