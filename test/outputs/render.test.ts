import { describe, expect, it } from "vitest";
import type { AssumedRole } from "../../src/aws/sts.ts";
import { parseConfig } from "../../src/config/parse.ts";
import {
  assembleOutputs,
  type Contribution,
  coreContribution,
  TOKEN_FILE,
} from "../../src/outputs/render.ts";

/**
 * The files of a run, rendered (src/outputs/render.ts): what a plain run's `env`, `docker.env` and
 * `outputs.json` hold in each mode, and the contributions joined in the order they are written.
 * (Profile runs: test/outputs/profiles.test.ts.)
 */

const MAIN = "arn:aws:iam::111111111111:role/deploy";
const CHAINED = "arn:aws:iam::222222222222:role/workload";
const TOKEN_PATH = "/build/.aws-oidc/web-identity-token";

const role = (arn: string, tag: string): AssumedRole => ({
  roleArn: arn,
  assumedRoleArn: arn
    .replace(":iam::", ":sts::")
    .replace(":role/", ":assumed-role/")
    .concat("/bitbucket-web-42"),
  sessionName: "bitbucket-web-42",
  credentials: {
    accessKeyId: `ASIA${tag}`,
    secretAccessKey: `secret-${tag}`,
    sessionToken: `token-${tag}`,
    expiration: new Date("2030-01-01T01:00:00.000Z"),
  },
});

function core(variables: Record<string, string> = {}, chained?: AssumedRole) {
  const config = parseConfig(
    {
      AWS_ROLE_ARN: MAIN,
      AWS_REGION: "eu-west-1",
      BITBUCKET_CLONE_DIR: "/build",
      BITBUCKET_REPO_SLUG: "web",
      BITBUCKET_BUILD_NUMBER: "42",
      ...variables,
    },
    "/build",
  );
  return coreContribution({
    config,
    token: "a.b.c",
    tokenFilePath: TOKEN_PATH,
    main: role(MAIN, "MAIN"),
    chained,
    accountId: "111111111111",
  });
}

const named = (files: { name: string; content: string }[]) =>
  Object.fromEntries(files.map((f) => [f.name, f.content]));

describe("coreContribution, plain runs", () => {
  it("static: the region, the web-identity trio and the keys, in env and docker.env", () => {
    const { env, dockerEnv, files } = core();
    expect(env.map((e) => ("unset" in e ? `unset ${e.name}` : `${e.name}=${e.value}`))).toEqual([
      "AWS_REGION=eu-west-1",
      "AWS_DEFAULT_REGION=eu-west-1",
      `AWS_ROLE_ARN=${MAIN}`,
      "AWS_ROLE_SESSION_NAME=bitbucket-web-42",
      `AWS_WEB_IDENTITY_TOKEN_FILE=${TOKEN_PATH}`,
      "AWS_ACCESS_KEY_ID=ASIAMAIN",
      "AWS_SECRET_ACCESS_KEY=secret-MAIN",
      "AWS_SESSION_TOKEN=token-MAIN",
      "AWS_CREDENTIAL_EXPIRATION=2030-01-01T01:00:00.000Z",
    ]);
    expect(dockerEnv?.map((e) => e.name)).toEqual([
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_CREDENTIAL_EXPIRATION",
    ]);
    expect(files).toEqual([{ name: TOKEN_FILE, content: "a.b.c" }]);
  });

  it("web-identity: no keys; the keys and AWS_PROFILE unset; docker.env names the token file", () => {
    const { env, dockerEnv } = core({ CREDENTIALS_MODE: "web-identity" });
    expect(env.filter((e) => "unset" in e).map((e) => e.name)).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
    ]);
    expect(JSON.stringify(env)).not.toContain("secret-MAIN");
    expect(dockerEnv?.map((e) => e.name)).toEqual([
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
      "AWS_ROLE_ARN",
      "AWS_ROLE_SESSION_NAME",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]);
  });

  it("outputs.json describes the default credentials, with no secret", () => {
    expect(core().outputs).toEqual({
      accountId: "111111111111",
      roleArn: MAIN,
      assumedRoleArn: "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-42",
      sessionName: "bitbucket-web-42",
      region: "eu-west-1",
      expiration: "2030-01-01T01:00:00.000Z",
      mode: "static",
    });
  });

  it("static chain: the chained role's keys, AWS_ROLE_ARN still the token's role, chainedFrom in outputs.json", () => {
    const { env, outputs } = core({ AWS_CHAIN_ROLE_ARN: CHAINED }, role(CHAINED, "CHAIN"));
    const value = (name: string) => env.find((e) => e.name === name && "value" in e) as { value: string };
    expect(value("AWS_ACCESS_KEY_ID").value).toBe("ASIACHAIN");
    expect(value("AWS_ROLE_ARN").value).toBe(MAIN);
    expect(outputs).toMatchObject({
      roleArn: CHAINED,
      chainedFrom: {
        roleArn: MAIN,
        assumedRoleArn: "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-42",
      },
    });
  });
});

describe("assembleOutputs", () => {
  const feature: Contribution = {
    env: [{ name: "CODEARTIFACT_AUTH_TOKEN", value: "ca-token" }],
    dockerEnv: [{ name: "CODEARTIFACT_AUTH_TOKEN", value: "ca-token" }],
    files: [{ name: "npmrc", content: "registry=x\n" }],
    outputs: { codeartifact: { domain: "acme" } },
  };

  it("every contribution's files first, then outputs.json and docker.env, env last", () => {
    const files = assembleOutputs([core(), feature]);
    expect(files.map((f) => f.name)).toEqual([TOKEN_FILE, "npmrc", "outputs.json", "docker.env", "env"]);
    const byName = named(files);
    expect(byName.env?.split("\n").at(-2)).toBe("export CODEARTIFACT_AUTH_TOKEN='ca-token'");
    expect(byName["docker.env"]).toContain("CODEARTIFACT_AUTH_TOKEN=ca-token\n");
    expect(JSON.parse(byName["outputs.json"] ?? "")).toMatchObject({
      accountId: "111111111111",
      codeartifact: { domain: "acme" },
    });
  });

  it("env quotes every value for the shell; docker.env takes no unset lines", () => {
    const byName = named(
      assembleOutputs([
        {
          env: [
            { name: "A", value: "it's $HOME" },
            { name: "B", unset: true },
          ],
          dockerEnv: [{ name: "B", unset: true }],
        },
      ]),
    );
    expect(byName.env).toBe("export A='it'\\''s $HOME'\nunset B\n");
    expect(byName["docker.env"]).toBe("\n");
    expect(byName["outputs.json"]).toBe("{}\n");
  });
});
