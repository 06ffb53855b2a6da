// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${AWS::...} placeholders are what these tests look for.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PipeError } from "../../src/errors.ts";
import { runTemplate } from "../../src/template/index.ts";
import { caught } from "../support/caught.ts";
import {
  type Any,
  AUDIENCE,
  actionsOf,
  BASE,
  ENV,
  HOST_PATH,
  noFiles,
  PROVIDER_ARN,
  policyProblems,
  REPO,
  REPO2,
  run,
  statementsOf,
  WS_UUID,
} from "../support/template.ts";

/**
 * The template itself (src/template/render.ts): the provider, the role, its trust policy and
 * outputs, YAML and JSON alike, and the trust policy's size against IAM's limits.
 */

describe("defaults", () => {
  const { template, warnings, output } = run(BASE);
  it("is a CloudFormation template with the provider, the role and both outputs", () => {
    expect(template.AWSTemplateFormatVersion).toBe("2010-09-09");
    expect(template.Description).toContain("acme");
    expect(Object.keys(template.Resources).sort()).toEqual(["BitbucketOidcProvider", "DeploymentRole"]);
    expect(template.Resources.BitbucketOidcProvider.Type).toBe("AWS::IAM::OIDCProvider");
    expect(template.Resources.BitbucketOidcProvider.Properties).toEqual({
      Url: `https://${HOST_PATH}`,
      ClientIdList: [AUDIENCE],
      ThumbprintList: [{ Ref: "ProviderThumbprint" }],
    });
    expect(template.Parameters.ProviderThumbprint.Default).toMatch(/^[0-9a-f]{40}$/);
    expect(template.Outputs.RoleArn.Value).toEqual({ "Fn::GetAtt": ["DeploymentRole", "Arn"] });
    expect(template.Outputs.ProviderArn.Value).toEqual({ Ref: "BitbucketOidcProvider" });
    expect(warnings).toEqual([]);
    expect(output.endsWith("\n")).toBe(true);
  });

  it("has the role with the default name, duration, ReadOnlyAccess and the contract's trust policy", () => {
    const role = template.Resources.DeploymentRole;
    expect(role.Type).toBe("AWS::IAM::Role");
    expect(role.Properties.RoleName).toBe("bitbucket-pipelines-deploy");
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess" },
    ]);
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: { Ref: "BitbucketOidcProvider" } },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${HOST_PATH}:aud`]: AUDIENCE },
            StringLike: { [`${HOST_PATH}:sub`]: `${REPO}:*` },
          },
        },
      ],
    });
  });

  it("grants full CDK deployment and CodeArtifact read by default, each statement with a Sid", () => {
    const names = template.Resources.DeploymentRole.Properties.Policies.map((p: Any) => p.PolicyName);
    expect(names).toEqual(["cdk-deploy", "codeartifact-read"]);
    for (const s of statementsOf(template)) expect(s.Sid).toMatch(/^[A-Za-z0-9]{8,}$/);
    expect(actionsOf(template)).toEqual(
      expect.arrayContaining([
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:DescribeStacks",
        "s3:PutObject",
        "iam:PassRole",
        "sts:AssumeRole",
        "codeartifact:GetAuthorizationToken",
        "codeartifact:GetRepositoryEndpoint",
        "codeartifact:ReadFromRepository",
        "sts:GetServiceBearerToken",
      ]),
    );
    expect(actionsOf(template)).not.toContain("codeartifact:PublishPackageVersion");
  });

  it("is plain YAML: long-form intrinsics, no tags, no anchors, read alike by YAML 1.1 and 1.2", () => {
    expect(output).not.toMatch(/(^|\s)!\w/m);
    expect(output).not.toMatch(/[&*]a\d/);
    expect(output).toContain("Fn::Sub:");
    expect(output).toContain("Ref: BitbucketOidcProvider");
    expect(parse(output, { version: "1.1" })).toEqual(parse(output, { version: "1.2" }));
    expect(output).toMatch(/Version: "2012-10-17"/);
    expect(output).toMatch(/AWSTemplateFormatVersion: "2010-09-09"/);
  });

  it("writes every ARN with ${AWS::Partition}", () => {
    expect(output).not.toMatch(/arn:aws:/);
    const subs = [...output.matchAll(/Fn::Sub: (.*)$/gm)].map((m) => m[1]);
    expect(subs.length).toBeGreaterThan(5);
    for (const s of subs) expect(s).toMatch(/^arn:\$\{AWS::Partition\}:/);
  });
});

describe("--audience", () => {
  const conditionOf = (template: Any) =>
    template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
  it("replaces the workspace audience in the provider and the condition; --workspace-uuid is then not needed", () => {
    const { template, notes } = run([
      "--workspace",
      "acme",
      "--repository-uuid",
      REPO,
      "--audience",
      "sts.amazonaws.com",
    ]);
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual(["sts.amazonaws.com"]);
    expect(conditionOf(template).StringEquals).toEqual({ [`${HOST_PATH}:aud`]: "sts.amazonaws.com" });
    expect(notes).toEqual([]);
  });

  it("repeats: every audience in the provider's client IDs, and any of them in the condition", () => {
    const { template } = run([...BASE, "--audience", "deploy-prod", "--audience=ari:custom-v1"]);
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual([
      "deploy-prod",
      "ari:custom-v1",
    ]);
    expect(conditionOf(template).StringEquals[`${HOST_PATH}:aud`]).toEqual(["deploy-prod", "ari:custom-v1"]);
    expect(
      policyProblems(template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument, "trust"),
    ).toEqual([]);
  });

  it("with --workspace-uuid too, says that steps without custom audiences are no longer admitted", () => {
    const { template, notes } = run([...BASE, "--audience", "deploy-prod"]);
    expect(JSON.stringify(template)).not.toContain(AUDIENCE);
    expect(notes.join("\n")).toContain(`--audience ari:cloud:bitbucket::workspace/<workspace UUID>`);
  });

  it("reminds, with an existing provider, that its client IDs must hold the audiences", () => {
    const { warnings } = run([...BASE, "--audience", "deploy-prod", "--existing-provider-arn", PROVIDER_ARN]);
    expect(warnings.join("\n")).toContain("must include deploy-prod");
    expect(warnings.join("\n")).toContain("add-client-id-to-open-id-connect-provider");
  });
});

describe("several repositories in one account", () => {
  const second = [
    "--workspace",
    "acme",
    "--workspace-uuid",
    WS_UUID,
    "--repository-uuid",
    REPO2,
    "--existing-provider-arn",
    PROVIDER_ARN,
  ];
  it("the second reuses the provider and names its own role: no resource of the first stack again", () => {
    const first = run(BASE).template;
    const { template, warnings } = run([...second, "--role-name", "web-app-deploy"]);
    expect(Object.keys(template.Resources)).toEqual(["DeploymentRole"]);
    const role = template.Resources.DeploymentRole.Properties;
    expect(role.RoleName).toBe("web-app-deploy");
    expect(role.RoleName).not.toBe(first.Resources.DeploymentRole.Properties.RoleName);
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal.Federated).toBe(PROVIDER_ARN);
    expect(warnings.join("\n")).not.toContain("default name");
  });

  it("warns when the second keeps the default role name, which the first stack probably took", () => {
    const { warnings } = run(second);
    expect(warnings.join("\n")).toMatch(/default name bitbucket-pipelines-deploy.*--role-name/);
  });

  it("the first stack's ProviderArn output tells how to reuse it", () => {
    expect(run(BASE).template.Outputs.ProviderArn.Description).toContain("--existing-provider-arn");
  });
});

describe("trust scope", () => {
  it("admits every repository x environment pair, UUIDs braced whatever the input", () => {
    const { template } = run([
      ...BASE,
      "--repository-uuid",
      REPO2.slice(1, -1).toUpperCase(),
      "--environment-uuid",
      ENV.slice(1, -1),
    ]);
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toEqual([`${REPO}:${ENV}:*`, `${REPO2}:${ENV}:*`]);
  });

  it("--source-ip restricts aws:SourceIp; a bare address becomes /32", () => {
    const { template } = run([...BASE, "--source-ip", "192.0.2.7", "--source-ip", "2001:db8::/32"]);
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.IpAddress).toEqual({ "aws:SourceIp": ["192.0.2.7/32", "2001:db8::/32"] });
  });

  it("JSON output is the same template as the YAML", () => {
    const yaml = run([...BASE, "--environment-uuid", ENV, "--source-ip", "192.0.2.0/24"]);
    const json = run([...BASE, "--environment-uuid", ENV, "--source-ip", "192.0.2.0/24", "--format", "json"]);
    expect(json.template).toEqual(yaml.template);
    expect(() => JSON.parse(json.output)).not.toThrow();
  });

  it("--existing-provider-arn: no provider resource, the ARN as principal and output, and an audience reminder", () => {
    const { template, warnings } = run([...BASE, "--existing-provider-arn", PROVIDER_ARN]);
    expect(Object.keys(template.Resources)).toEqual(["DeploymentRole"]);
    expect(template.Parameters).toBeUndefined();
    const trust = template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument;
    expect(trust.Statement[0].Principal).toEqual({ Federated: PROVIDER_ARN });
    expect(policyProblems(trust, "trust")).toEqual([]);
    expect(template.Outputs.ProviderArn.Value).toBe(PROVIDER_ARN);
    expect(warnings.join("\n")).toContain(AUDIENCE);
  });
});

describe("trust policy size", () => {
  const uuid = (i: number) => `{${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000}`;
  const args = (repos: number, envs: number) => [
    "--workspace",
    "acme",
    "--workspace-uuid",
    WS_UUID,
    ...Array.from({ length: repos }, (_, i) => `--repository-uuid=${uuid(i + 1)}`),
    ...Array.from({ length: envs }, (_, i) => `--environment-uuid=${uuid(1000 + i)}`),
  ];
  /** The trust policy as IAM would receive it, measured independently of the code under test. */
  const measured = (output: string): number => {
    const trust = parse(output).Resources.DeploymentRole.Properties.AssumeRolePolicyDocument;
    trust.Statement[0].Principal.Federated = `arn:aws-us-gov:iam::123456789012:oidc-provider/${HOST_PATH}`;
    return JSON.stringify(trust).length;
  };
  it("warns above 2,048 characters and fails above 4,096, at the right size", () => {
    let warned = 0;
    let failed = 0;
    for (let repos = 1; repos <= 60; repos++) {
      let result: ReturnType<typeof runTemplate> | undefined;
      let error: PipeError | undefined;
      try {
        result = runTemplate(args(repos, 1), {}, noFiles);
      } catch (e) {
        error = e as PipeError;
      }
      if (result) {
        const size = measured(result.output);
        const warning = result.warnings.find((w) => w.includes("trust policy"));
        expect(size <= 4096, `${repos} repositories`).toBe(true);
        expect(warning !== undefined, `${repos} repositories: ${size} characters`).toBe(size > 2048);
        if (warning) {
          warned++;
          expect(warning).toContain(`${size} characters`);
          expect(warning).toContain("2048");
          expect(warning).toContain("4096");
        }
      } else {
        failed++;
        expect(error).toBeInstanceOf(PipeError);
        expect(error?.kind).toBe("input");
        const size = Number(/(\d+) characters/.exec(error?.message ?? "")?.[1]);
        expect(size).toBeGreaterThan(4096);
        expect(error?.fix).toMatch(/fewer or aggregated CIDRs/);
        expect(error?.fix).toMatch(/one role per group of repositories/);
      }
    }
    expect(warned).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
  });

  it.each([2048, 4096])("draws the line at exactly %i characters", (limit) => {
    // The provider ARN's partition is free text to the flag's check, so padding it moves the
    // policy's size one character at a time.
    const arn = (pad: number) =>
      `arn:aws${pad > 0 ? `-${"x".repeat(pad - 1)}` : ""}:iam::210987654321:oidc-provider/${HOST_PATH}`;
    const sized = (repos: number, pad: number) => {
      const argv = [...args(repos, 1), "--format=json", `--existing-provider-arn=${arn(pad)}`];
      try {
        const result = runTemplate(argv, {}, noFiles);
        const trust = JSON.parse(result.output).Resources.DeploymentRole.Properties.AssumeRolePolicyDocument;
        return {
          size: JSON.stringify(trust).length,
          warned: result.warnings.some((w) => w.includes("trust policy")),
        };
      } catch (error) {
        expect(error).toBeInstanceOf(PipeError);
        return { size: Number.NaN, warned: true, failed: true };
      }
    };
    let repos = 1;
    while (sized(repos + 1, 0).size <= limit) repos++;
    const start = sized(repos, 0).size;
    expect(limit - start).toBeLessThan(100);
    const atLimit = sized(repos, limit - start);
    const over = sized(repos, limit - start + 1);
    expect(atLimit.size).toBe(limit);
    if (limit === 2048) {
      expect(atLimit.warned).toBe(false);
      expect(over).toEqual({ size: limit + 1, warned: true });
    } else {
      expect(atLimit).toEqual({ size: limit, warned: true });
      expect(over.failed).toBe(true);
    }
  });

  it("counts the CIDRs too", () => {
    const cidrs = Array.from(
      { length: 300 },
      (_, i) => `--source-ip=10.${i % 250}.${Math.floor(i / 250)}.0/24`,
    );
    const error = caught(() => runTemplate([...BASE, ...cidrs], {}, noFiles));
    expect(error.message).toContain("4096");
    expect(error.fix).toContain("1 sub pattern (");
    expect(error.fix).toContain("300 CIDRs");
  });

  it("measures with the existing provider's ARN when given", () => {
    const long = `arn:aws:iam::210987654321:oidc-provider/${HOST_PATH}`;
    const repos = Array.from({ length: 45 }, (_, i) => `--repository-uuid=${uuid(i + 1)}`);
    const base = ["--workspace", "acme", "--workspace-uuid", WS_UUID, ...repos];
    const created = runTemplate(base, {}, noFiles);
    const reused = runTemplate([...base, "--existing-provider-arn", long], {}, noFiles);
    const size = (w: string[]) => Number(/about (\d+) characters/.exec(w.join("\n"))?.[1] ?? 0);
    // aws-us-gov (sizing for a created provider) is 7 characters longer than aws.
    expect(size(created.warnings) - size(reused.warnings)).toBe(7);
  });
});
