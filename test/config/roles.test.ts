import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.ts";
import {
  accountOf,
  defaultSessionName,
  parseRoleArn,
  parseRoles,
  RESERVED_PROFILE,
  roleArnsOf,
} from "../../src/config/roles.ts";
import { base, parsedBy, problems, ROLE } from "../support/config.ts";

/**
 * The roles a run assumes (src/config/roles.ts): the role ARN and its other name, session name and
 * duration, session policies, allowed accounts, profiles, the chain, the mode.
 */

describe("through parseConfig", () => {
  it("accepts the aliases and refuses a conflicting pair", () => {
    const config = parseConfig({ AWS_OIDC_ROLE_ARN: ROLE, AWS_DEFAULT_REGION: "eu-west-1" }, "/w");
    expect([config.roleArn, config.region]).toEqual([ROLE, "eu-west-1"]);
    expect(problems({ ...base, AWS_OIDC_ROLE_ARN: "arn:aws:iam::123456789012:role/other" })[0]).toMatch(
      /AWS_ROLE_ARN and AWS_OIDC_ROLE_ARN/,
    );
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

describe("parseRoleArn", () => {
  it("takes a role ARN in any partition, with a path; refuses other ARNs, naming the variable set", () => {
    for (const arn of [
      ROLE,
      "arn:aws-us-gov:iam::123456789012:role/ops/deploy",
      "arn:aws-cn:iam::123456789012:role/d",
    ]) {
      expect(parsedBy(parseRoleArn, { AWS_ROLE_ARN: arn })).toEqual({ value: arn, problems: [] });
    }
    expect(
      parsedBy(parseRoleArn, { AWS_OIDC_ROLE_ARN: "arn:aws:iam::123456789012:user/me" }).problems,
    ).toEqual([
      'AWS_OIDC_ROLE_ARN must be an IAM role ARN like arn:aws:iam::123456789012:role/deploy, got "arn:aws:iam::123456789012:user/me".',
    ]);
    expect(parsedBy(parseRoleArn, {}).problems[0]).toMatch(/^AWS_ROLE_ARN is required/);
  });

  it("takes both names when they agree", () => {
    expect(parsedBy(parseRoleArn, { AWS_ROLE_ARN: ROLE, AWS_OIDC_ROLE_ARN: ` ${ROLE} ` }).problems).toEqual(
      [],
    );
  });
});

describe("parseRoles", () => {
  it("defaults: 3600 s, static, the session name from the slug and build number, nothing else", () => {
    expect(parsedBy(parseRoles, { BITBUCKET_REPO_SLUG: "web", BITBUCKET_BUILD_NUMBER: "9" })).toEqual({
      value: {
        sessionName: "bitbucket-web-9",
        durationSeconds: 3600,
        sessionPolicy: undefined,
        sessionPolicyArns: [],
        allowedAccountIds: [],
        profiles: [],
        chainRoleArn: undefined,
        chainExternalId: undefined,
        mode: "static",
      },
      problems: [],
    });
  });

  it("holds the duration to 900-43200 and the session name to STS's characters", () => {
    expect(parsedBy(parseRoles, { AWS_ROLE_DURATION_SECONDS: "43200" }).value.durationSeconds).toBe(43200);
    expect(parsedBy(parseRoles, { AWS_ROLE_DURATION_SECONDS: "899" }).problems[0]).toMatch(
      /^AWS_ROLE_DURATION_SECONDS must be a whole number from 900 to 43200/,
    );
    expect(parsedBy(parseRoles, { AWS_ROLE_SESSION_NAME: "a b" }).problems[0]).toMatch(
      /^AWS_ROLE_SESSION_NAME must be 2-64 of/,
    );
  });

  it("chain: its ARN checked, an external id only with it and in STS's characters", () => {
    const chain = "arn:aws:iam::222222222222:role/cross";
    expect(
      parsedBy(parseRoles, { AWS_CHAIN_ROLE_ARN: chain, AWS_CHAIN_EXTERNAL_ID: "ext-1" }).value,
    ).toMatchObject({ chainRoleArn: chain, chainExternalId: "ext-1" });
    expect(parsedBy(parseRoles, { AWS_CHAIN_EXTERNAL_ID: "ext-1" }).problems).toEqual([
      "AWS_CHAIN_EXTERNAL_ID is set but AWS_CHAIN_ROLE_ARN is not.",
    ]);
    expect(
      parsedBy(parseRoles, { AWS_CHAIN_ROLE_ARN: chain, AWS_CHAIN_EXTERNAL_ID: "x y" }).problems[0],
    ).toMatch(/^AWS_CHAIN_EXTERNAL_ID must be 2-1224 of/);
    expect(parsedBy(parseRoles, { AWS_CHAIN_ROLE_ARN: "cross" }).problems[0]).toMatch(
      /^AWS_CHAIN_ROLE_ARN must be/,
    );
  });

  it("mode in any case; the profile name the chain's source takes is reserved", () => {
    expect(parsedBy(parseRoles, { CREDENTIALS_MODE: "Web-Identity" }).value.mode).toBe("web-identity");
    expect(parsedBy(parseRoles, { AWS_PROFILES: `${RESERVED_PROFILE}=${ROLE}` }).problems[0]).toMatch(
      /reserved/,
    );
    expect(parsedBy(parseRoles, { AWS_PROFILES: `dev=${ROLE} dev=${ROLE}` }).problems).toEqual([
      'AWS_PROFILES names the profile "dev" twice.',
    ]);
  });
});

describe("accountOf and roleArnsOf", () => {
  it("reads the account of IAM and STS ARNs, none of others", () => {
    expect(accountOf(ROLE)).toBe("123456789012");
    expect(accountOf("arn:aws:sts::111111111111:assumed-role/deploy/s")).toBe("111111111111");
    expect(accountOf("arn:aws:s3:::bucket")).toBeUndefined();
  });

  it("lists every role the run touches, named by the variable that set it", () => {
    const config = parseConfig(
      {
        ...base,
        AWS_PROFILES: "dev=arn:aws:iam::111111111111:role/a",
        AWS_CHAIN_ROLE_ARN: "arn:aws:iam::222222222222:role/c",
      },
      "/build",
    );
    expect(roleArnsOf(config)).toEqual([
      { variable: "AWS_ROLE_ARN", arn: ROLE },
      { variable: "AWS_PROFILES (dev)", arn: "arn:aws:iam::111111111111:role/a" },
      { variable: "AWS_CHAIN_ROLE_ARN", arn: "arn:aws:iam::222222222222:role/c" },
    ]);
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
