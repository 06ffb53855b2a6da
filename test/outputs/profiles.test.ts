import { describe, expect, it } from "vitest";
import type { AssumedRole } from "../../src/aws/sts.ts";
import { parseConfig } from "../../src/config/parse.ts";
import {
  isProfileRun,
  type ProfileRun,
  renderAwsConfig,
  renderAwsCredentials,
} from "../../src/outputs/profiles.ts";
import { assembleOutputs, type CoreOutputs, coreContribution } from "../../src/outputs/render.ts";

const HUB = "arn:aws:iam::111111111111:role/hub";
const DEV = "arn:aws:iam::111111111111:role/deploy";
const PROD = "arn:aws:iam::222222222222:role/deploy";
const WORKLOAD = "arn:aws:iam::333333333333:role/workload";
const TOKEN_FILE = "/build/.aws-oidc/web-identity-token";
const SESSION = "bitbucket-web-42";

function role(arn: string, tag: string, expiresAt = "2030-01-01T01:00:00.000Z"): AssumedRole {
  const [, account, name] = /::(\d{12}):role\/(.+)$/.exec(arn) ?? [];
  return {
    roleArn: arn,
    assumedRoleArn: `arn:aws:sts::${account}:assumed-role/${name}/${SESSION}`,
    sessionName: SESSION,
    credentials: {
      accessKeyId: `ASIA${tag}KEY`,
      secretAccessKey: `secret-${tag}`,
      sessionToken: `token-${tag}`,
      expiration: new Date(expiresAt),
    },
  };
}

const run = (o: Partial<ProfileRun>): ProfileRun => ({
  mode: "web-identity",
  region: "ap-southeast-2",
  tokenFilePath: TOKEN_FILE,
  main: role(HUB, "HUB"),
  chained: undefined,
  chainExternalId: undefined,
  profiles: [
    { name: "dev", role: role(DEV, "DEV") },
    { name: "prod", role: role(PROD, "PROD") },
  ],
  ...o,
});

describe("aws-config", () => {
  it("web-identity: every section assumes its own role from the token file", () => {
    expect(renderAwsConfig(run({}))).toBe(`[default]
role_arn = ${HUB}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2

[profile dev]
role_arn = ${DEV}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2

[profile prod]
role_arn = ${PROD}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2
`);
  });

  it("web-identity with a chain: the default is sourced from [profile bitbucket-oidc], the token's role", () => {
    const text = renderAwsConfig(
      run({
        chained: role(WORKLOAD, "WORK"),
        chainExternalId: "ext-42",
        profiles: [{ name: "prod", role: role(PROD, "PROD") }],
      }),
    );
    expect(text).toBe(`[default]
role_arn = ${WORKLOAD}
source_profile = bitbucket-oidc
external_id = ext-42
role_session_name = ${SESSION}
region = ap-southeast-2

[profile bitbucket-oidc]
role_arn = ${HUB}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2

[profile prod]
role_arn = ${PROD}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2
`);
  });

  it("web-identity with a chain and no external id, no profiles", () => {
    expect(renderAwsConfig(run({ chained: role(WORKLOAD, "WORK"), profiles: [] }))).toBe(`[default]
role_arn = ${WORKLOAD}
source_profile = bitbucket-oidc
role_session_name = ${SESSION}
region = ap-southeast-2

[profile bitbucket-oidc]
role_arn = ${HUB}
web_identity_token_file = ${TOKEN_FILE}
role_session_name = ${SESSION}
region = ap-southeast-2
`);
  });

  it("static: the region only (the keys are in aws-credentials)", () => {
    expect(renderAwsConfig(run({ mode: "static", chained: role(WORKLOAD, "WORK") }))).toBe(`[default]
region = ap-southeast-2

[profile dev]
region = ap-southeast-2

[profile prod]
region = ap-southeast-2
`);
  });

  it("refuses a token path that SDKs would cut at a comment or a line break", () => {
    for (const bad of ["/build dir #1/.aws-oidc/web-identity-token", "/build ;x/t", "/build\n/t"]) {
      expect(() => renderAwsConfig(run({ tokenFilePath: bad }))).toThrow(
        expect.objectContaining({
          kind: "internal",
          message: expect.stringMatching(/^Could not write aws-config: its web_identity_token_file/),
          fix: expect.stringContaining("OUTPUT_DIR"),
        }),
      );
    }
    // `#` inside a word is no comment for either parser.
    expect(renderAwsConfig(run({ tokenFilePath: "/build/c#/t" }))).toContain(
      "web_identity_token_file = /build/c#/t\n",
    );
  });
});

describe("aws-credentials", () => {
  it("has [default] (the chained role's keys when chaining) and one [NAME] per profile", () => {
    expect(renderAwsCredentials(run({ mode: "static", chained: role(WORKLOAD, "WORK") }))).toBe(`[default]
aws_access_key_id = ASIAWORKKEY
aws_secret_access_key = secret-WORK
aws_session_token = token-WORK

[dev]
aws_access_key_id = ASIADEVKEY
aws_secret_access_key = secret-DEV
aws_session_token = token-DEV

[prod]
aws_access_key_id = ASIAPRODKEY
aws_secret_access_key = secret-PROD
aws_session_token = token-PROD
`);
  });

  it("without a chain, [default] is the main role's", () => {
    expect(renderAwsCredentials(run({ mode: "static", profiles: [] }))).toBe(`[default]
aws_access_key_id = ASIAHUBKEY
aws_secret_access_key = secret-HUB
aws_session_token = token-HUB
`);
  });
});

const BASE_ENV = {
  AWS_ROLE_ARN: HUB,
  AWS_REGION: "ap-southeast-2",
  BITBUCKET_CLONE_DIR: "/build",
  BITBUCKET_REPO_SLUG: "web",
  BITBUCKET_BUILD_NUMBER: "42",
};

function outputsFor(variables: Record<string, string>, parts: Partial<CoreOutputs>) {
  const config = parseConfig({ ...BASE_ENV, ...variables }, "/build");
  const files = assembleOutputs([
    coreContribution({
      config,
      token: "header.payload.signature",
      tokenFilePath: TOKEN_FILE,
      main: role(HUB, "HUB"),
      accountId: "111111111111",
      ...parts,
    }),
  ]);
  const byName = Object.fromEntries(files.map((f) => [f.name, f.content]));
  return { names: files.map((f) => f.name), byName, outputs: JSON.parse(byName["outputs.json"] ?? "{}") };
}

const PROFILES = `dev=${DEV} prod=${PROD}`;
const profiles = [
  { name: "dev", role: role(DEV, "DEV") },
  { name: "prod", role: role(PROD, "PROD") },
];
const UNSETS = `unset AWS_ACCESS_KEY_ID
unset AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN
unset AWS_ROLE_ARN
unset AWS_WEB_IDENTITY_TOKEN_FILE
unset AWS_ROLE_SESSION_NAME
unset AWS_PROFILE
`;

describe("what a profile run writes", () => {
  it("tells profile runs apart from plain runs", () => {
    const config = (variables: Record<string, string>) =>
      parseConfig({ ...BASE_ENV, ...variables }, "/build");
    expect(isProfileRun(config({}))).toBe(false);
    expect(isProfileRun(config({ AWS_PROFILES: PROFILES }))).toBe(true);
    expect(isProfileRun(config({ AWS_CHAIN_ROLE_ARN: WORKLOAD }))).toBe(false);
    expect(isProfileRun(config({ AWS_CHAIN_ROLE_ARN: WORKLOAD, CREDENTIALS_MODE: "web-identity" }))).toBe(
      true,
    );
  });

  it("static: env has only the region and the two file locations, and unsets the rest", () => {
    const { names, byName, outputs } = outputsFor({ AWS_PROFILES: PROFILES }, { profiles });
    expect(byName.env).toBe(`export AWS_REGION='ap-southeast-2'
export AWS_DEFAULT_REGION='ap-southeast-2'
export AWS_CONFIG_FILE='/build/.aws-oidc/aws-config'
export AWS_SHARED_CREDENTIALS_FILE='/build/.aws-oidc/aws-credentials'
${UNSETS}`);
    expect(names).toEqual([
      "web-identity-token",
      "aws-config",
      "aws-credentials",
      "outputs.json",
      "docker.env",
      "env",
    ]);
    // A container gets the default credentials.
    expect(byName["docker.env"]).toBe(`AWS_REGION=ap-southeast-2
AWS_DEFAULT_REGION=ap-southeast-2
AWS_ACCESS_KEY_ID=ASIAHUBKEY
AWS_SECRET_ACCESS_KEY=secret-HUB
AWS_SESSION_TOKEN=token-HUB
AWS_CREDENTIAL_EXPIRATION=2030-01-01T01:00:00.000Z
`);
    expect(outputs).toEqual({
      accountId: "111111111111",
      roleArn: HUB,
      assumedRoleArn: `arn:aws:sts::111111111111:assumed-role/hub/${SESSION}`,
      sessionName: SESSION,
      region: "ap-southeast-2",
      expiration: "2030-01-01T01:00:00.000Z",
      mode: "static",
      profiles: {
        dev: `arn:aws:sts::111111111111:assumed-role/deploy/${SESSION}`,
        prod: `arn:aws:sts::222222222222:assumed-role/deploy/${SESSION}`,
      },
    });
  });

  it("web-identity: no credentials file; docker.env points at the config file", () => {
    const { names, byName } = outputsFor(
      { AWS_PROFILES: PROFILES, CREDENTIALS_MODE: "web-identity" },
      { profiles },
    );
    expect(byName.env).toBe(`export AWS_REGION='ap-southeast-2'
export AWS_DEFAULT_REGION='ap-southeast-2'
export AWS_CONFIG_FILE='/build/.aws-oidc/aws-config'
${UNSETS}`);
    expect(names).not.toContain("aws-credentials");
    expect(byName["docker.env"]).toBe(`AWS_REGION=ap-southeast-2
AWS_DEFAULT_REGION=ap-southeast-2
AWS_CONFIG_FILE=/build/.aws-oidc/aws-config
`);
    expect(byName["aws-config"]).toContain(`[profile prod]\nrole_arn = ${PROD}\n`);
  });

  it("web-identity chain without profiles is a profile run whose default is the chained role", () => {
    const chained = role(WORKLOAD, "WORK", "2030-01-01T00:30:00.000Z");
    const { byName, outputs } = outputsFor(
      { AWS_CHAIN_ROLE_ARN: WORKLOAD, CREDENTIALS_MODE: "web-identity" },
      { chained, accountId: "333333333333" },
    );
    expect(byName.env).toBe(`export AWS_REGION='ap-southeast-2'
export AWS_DEFAULT_REGION='ap-southeast-2'
export AWS_CONFIG_FILE='/build/.aws-oidc/aws-config'
${UNSETS}`);
    expect(byName["aws-config"]).toContain(
      `[default]\nrole_arn = ${WORKLOAD}\nsource_profile = bitbucket-oidc\n`,
    );
    expect(outputs).toMatchObject({
      accountId: "333333333333",
      roleArn: WORKLOAD,
      assumedRoleArn: `arn:aws:sts::333333333333:assumed-role/workload/${SESSION}`,
      expiration: "2030-01-01T00:30:00.000Z",
      chainedFrom: { roleArn: HUB, assumedRoleArn: `arn:aws:sts::111111111111:assumed-role/hub/${SESSION}` },
    });
    expect(outputs.profiles).toBeUndefined();
  });

  it("static chain without profiles is a plain run whose keys are the chained role's", () => {
    const chained = role(WORKLOAD, "WORK", "2030-01-01T00:30:00.000Z");
    const { names, byName, outputs } = outputsFor({ AWS_CHAIN_ROLE_ARN: WORKLOAD }, { chained });
    expect(names).not.toContain("aws-config");
    expect(byName.env).toBe(`export AWS_REGION='ap-southeast-2'
export AWS_DEFAULT_REGION='ap-southeast-2'
export AWS_ROLE_ARN='${HUB}'
export AWS_ROLE_SESSION_NAME='${SESSION}'
export AWS_WEB_IDENTITY_TOKEN_FILE='${TOKEN_FILE}'
export AWS_ACCESS_KEY_ID='ASIAWORKKEY'
export AWS_SECRET_ACCESS_KEY='secret-WORK'
export AWS_SESSION_TOKEN='token-WORK'
export AWS_CREDENTIAL_EXPIRATION='2030-01-01T00:30:00.000Z'
`);
    expect(byName["docker.env"]).toContain("AWS_ACCESS_KEY_ID=ASIAWORKKEY\n");
    expect(outputs.roleArn).toBe(WORKLOAD);
    expect(outputs.chainedFrom.roleArn).toBe(HUB);
  });

  it("static with profiles and a chain: [default] holds the chained keys, the hub's keys go nowhere", () => {
    const chained = role(WORKLOAD, "WORK");
    const { byName } = outputsFor(
      { AWS_PROFILES: PROFILES, AWS_CHAIN_ROLE_ARN: WORKLOAD },
      { chained, profiles },
    );
    expect(byName["aws-credentials"]).toMatch(/^\[default\]\naws_access_key_id = ASIAWORKKEY\n/);
    for (const content of Object.values(byName)) {
      expect(content).not.toContain("secret-HUB");
      expect(content).not.toContain("bitbucket-oidc");
    }
  });
});
