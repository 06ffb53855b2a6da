// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${AWS::...} placeholders are what these tests look for.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PipeError } from "../src/errors.js";
import { runTemplate, TEMPLATE_USAGE } from "../src/template/index.js";
import { conditionForClaims } from "../src/trust.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/ip-ranges.sample.json", import.meta.url));
const WS_UUID = "12345678-90ab-4cde-8f01-234567890abc";
const REPO = "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}";
const REPO2 = "{0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d}";
const ENV = "{e1e2e3e4-f5f6-4a7b-8c9d-aaaabbbbcccc}";
const HOST_PATH = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
const AUDIENCE = `ari:cloud:bitbucket::workspace/${WS_UUID}`;
const BASE = ["--workspace", "acme", "--workspace-uuid", WS_UUID, "--repository-uuid", REPO];
const PROVIDER_ARN = `arn:aws:iam::210987654321:oidc-provider/${HOST_PATH}`;

// biome-ignore lint/suspicious/noExplicitAny: templates are free-form JSON, read in tests by path.
type Any = any;

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file, open '${path}'`);
};

/** Runs the command and parses its output (YAML or JSON, as asked). */
function run(args: string[], env: NodeJS.ProcessEnv = {}, readFile: (p: string) => string = noFiles) {
  const result = runTemplate(args, env, readFile);
  const json = args.some((a) => a === "json" || a === "--format=json");
  return { ...result, template: (json ? JSON.parse(result.output) : parse(result.output)) as Any };
}

function caught(fn: () => unknown): PipeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PipeError);
    return error as PipeError;
  }
  throw new Error("expected a PipeError, nothing was thrown");
}

/** The whole text of an error, as the user sees it. */
const told = (error: PipeError) => [error.message, ...error.details, error.fix ?? ""].join("\n");

// --- IAM policy grammar --------------------------------------------------------------------

const OPERATORS = new Set(
  [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
  ].flatMap((op) => [op, `${op}IfExists`, `ForAnyValue:${op}`, `ForAllValues:${op}`]),
);
const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "Action",
  "NotAction",
  "Resource",
  "Condition",
]);
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*]+$/;

const resourceOk = (resource: unknown): boolean => {
  if (resource === "*") return true;
  if (typeof resource === "string") return /^arn:aws[a-z-]*:[a-z0-9-]+:/.test(resource);
  if (typeof resource === "object" && resource !== null && Object.keys(resource).length === 1) {
    const sub = (resource as Record<string, unknown>)["Fn::Sub"];
    return typeof sub === "string" && sub.startsWith("arn:${AWS::Partition}:");
  }
  return false;
};

/** Problems with a policy document against IAM's grammar; empty when it is well-formed. */
function policyProblems(doc: Any, kind: "identity" | "trust"): string[] {
  const problems: string[] = [];
  if (doc?.Version !== "2012-10-17") problems.push(`Version is ${JSON.stringify(doc?.Version)}`);
  const statements: Any[] = Array.isArray(doc?.Statement) ? doc.Statement : [doc?.Statement];
  if (statements.length === 0 || statements[0] === undefined) problems.push("no Statement");
  const sids = new Set<string>();
  for (const [i, s] of statements.entries()) {
    const at = `Statement[${i}]`;
    if (typeof s !== "object" || s === null) {
      problems.push(`${at} is not an object`);
      continue;
    }
    for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) problems.push(`${at} has unknown ${key}`);
    if (s.Sid !== undefined) {
      if (typeof s.Sid !== "string" || !/^[A-Za-z0-9]+$/.test(s.Sid)) problems.push(`${at} Sid ${s.Sid}`);
      if (sids.has(s.Sid)) problems.push(`${at} repeats Sid ${s.Sid}`);
      sids.add(s.Sid);
    }
    if (s.Effect !== "Allow" && s.Effect !== "Deny") problems.push(`${at} Effect ${s.Effect}`);
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    if (actions.length === 0) problems.push(`${at} has no Action`);
    for (const a of actions) if (typeof a !== "string" || !ACTION.test(a)) problems.push(`${at} Action ${a}`);
    if (kind === "identity") {
      if (s.Principal !== undefined) problems.push(`${at} has a Principal in an identity policy`);
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      if (resources.length === 0) problems.push(`${at} has no Resource`);
      for (const r of resources) if (!resourceOk(r)) problems.push(`${at} Resource ${JSON.stringify(r)}`);
    } else {
      if (s.Resource !== undefined) problems.push(`${at} has a Resource in a trust policy`);
      if (s.Principal?.Federated === undefined) problems.push(`${at} has no Federated principal`);
    }
    if (s.Condition !== undefined) {
      for (const [op, block] of Object.entries(s.Condition as Record<string, unknown>)) {
        if (!OPERATORS.has(op)) problems.push(`${at} condition operator ${op}`);
        if (typeof block !== "object" || block === null || Object.keys(block).length === 0) {
          problems.push(`${at} ${op} is empty`);
          continue;
        }
        for (const [key, value] of Object.entries(block)) {
          const values = Array.isArray(value) ? value : [value];
          if (values.length === 0 || !values.every((v) => typeof v === "string")) {
            problems.push(`${at} ${op} ${key} values`);
          }
        }
      }
    }
  }
  return problems;
}

/** Every policy document in a template: the trust policy and each inline policy. */
function policiesOf(template: Any): { name: string; doc: Any; kind: "identity" | "trust" }[] {
  const role = template.Resources.DeploymentRole.Properties;
  return [
    { name: "trust", doc: role.AssumeRolePolicyDocument, kind: "trust" as const },
    ...(role.Policies ?? []).map((p: Any) => ({
      name: p.PolicyName,
      doc: p.PolicyDocument,
      kind: "identity" as const,
    })),
  ];
}

const statementsOf = (template: Any): Any[] =>
  (template.Resources.DeploymentRole.Properties.Policies ?? []).flatMap(
    (p: Any) => p.PolicyDocument.Statement,
  );

const actionsOf = (template: Any): string[] =>
  statementsOf(template).flatMap((s: Any) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe("the grammar checker itself", () => {
  it("finds the mistakes it is there to find", () => {
    const bad = {
      Version: "2008-10-17",
      Statement: [
        {
          Sid: "has space",
          Effect: "allow",
          Action: "AssumeRole",
          Resource: "bucket",
          Condition: { StringMatches: {} },
        },
        { Sid: "A", Effect: "Allow", Action: "s3:GetObject", Resource: { "Fn::Sub": "arn:aws:s3:::x" } },
      ],
    };
    expect(policyProblems(bad, "identity")).toEqual([
      'Version is "2008-10-17"',
      "Statement[0] Sid has space",
      "Statement[0] Effect allow",
      "Statement[0] Action AssumeRole",
      'Statement[0] Resource "bucket"',
      "Statement[0] condition operator StringMatches",
      "Statement[0] StringMatches is empty",
      'Statement[1] Resource {"Fn::Sub":"arn:aws:s3:::x"}',
    ]);
  });
});

// --- the template ----------------------------------------------------------------------------

describe("template: defaults", () => {
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

describe("template: every combination of permissions is valid IAM", () => {
  const combos = ["full", "bootstrap-roles"].flatMap((cdk) =>
    ["hnb659fds", "none", "custom1"].flatMap((q) =>
      ["none", "read", "publish"].flatMap((ca) =>
        ["true", "false"].flatMap((ro) =>
          ["none", "pull", "push"].map((ecr) => [cdk, q, ca, ro, ecr] as const),
        ),
      ),
    ),
  );
  it.each(combos)(
    "--cdk-access %s --cdk-qualifier %s --codeartifact %s --read-only %s --ecr %s",
    (cdk, q, ca, ro, ecr) => {
      const { template } = run([
        ...BASE,
        "--ecr",
        ecr,
        "--cdk-access",
        cdk,
        "--cdk-qualifier",
        q,
        "--codeartifact",
        ca,
        "--read-only",
        ro,
        "--environment-uuid",
        ENV,
        "--source-ip",
        "192.0.2.0/24",
      ]);
      for (const { name, doc, kind } of policiesOf(template)) {
        expect(policyProblems(doc, kind), name).toEqual([]);
      }
      const role = template.Resources.DeploymentRole.Properties;
      expect(role.ManagedPolicyArns !== undefined).toBe(ro === "true");
      const names = (role.Policies ?? []).map((p: Any) => p.PolicyName);
      expect(names.includes("cdk-deploy")).toBe(q !== "none");
      expect(names.includes(`codeartifact-${ca}`)).toBe(ca !== "none");
      expect(names.includes(`ecr-${ecr}`)).toBe(ecr !== "none");
    },
  );
});

describe("template: CDK permissions", () => {
  const resourcesOf = (template: Any, sid: string): string[] => {
    const s = statementsOf(template).find((x: Any) => x.Sid === sid);
    return (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r: Any) => r["Fn::Sub"] ?? r);
  };

  it("full: change sets on stacks, the asset buckets, PassRole and AssumeRole on the bootstrap roles", () => {
    const { template } = run([...BASE, "--cdk-qualifier=abc123"]);
    const sids = statementsOf(template).map((s: Any) => s.Sid);
    const cfn = statementsOf(template).find((s: Any) => s.Sid === sids[0]);
    expect(cfn.Action.every((a: string) => a.startsWith("cloudformation:"))).toBe(true);
    expect(resourcesOf(template, cfn.Sid)).toEqual([
      "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*",
    ]);
    const s3 = statementsOf(template).find((s: Any) => s.Action.includes?.("s3:PutObject"));
    const buckets = resourcesOf(template, s3.Sid);
    expect(buckets).toEqual(
      expect.arrayContaining(["arn:${AWS::Partition}:s3:::cdktoolkit-stagingbucket-*/*"]),
    );
    expect(buckets.some((b) => b.startsWith("arn:${AWS::Partition}:s3:::cdk-abc123-assets-"))).toBe(true);
    expect(buckets.some((b) => b.includes("hnb659fds"))).toBe(false);
    const pass = statementsOf(template).find((s: Any) => s.Action === "iam:PassRole");
    const assume = statementsOf(template).find((s: Any) => s.Action === "sts:AssumeRole");
    for (const s of [pass, assume]) {
      expect(resourcesOf(template, s.Sid)).toEqual([
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-abc123-*",
      ]);
    }
  });

  it("bootstrap-roles: only sts:AssumeRole on the bootstrap roles", () => {
    const { template } = run([...BASE, "--cdk-access", "bootstrap-roles", "--codeartifact", "none"]);
    const statements = statementsOf(template);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe("sts:AssumeRole");
    expect(statements[0].Resource).toEqual({
      "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-*",
    });
  });

  it("none: no CDK statement at all", () => {
    const { template } = run([...BASE, "--cdk-qualifier", "none"]);
    expect(actionsOf(template).some((a) => a.startsWith("cloudformation:") || a === "iam:PassRole")).toBe(
      false,
    );
    expect(JSON.stringify(template)).not.toContain("cdk-");
  });
});

describe("template: CodeArtifact permissions", () => {
  it("read: bearer token only for CodeArtifact, authorization token, endpoint and read", () => {
    const { template } = run([...BASE, "--cdk-qualifier", "none"]);
    const bearer = statementsOf(template).find((s: Any) => s.Action === "sts:GetServiceBearerToken");
    expect(bearer.Resource).toBe("*");
    expect(bearer.Condition).toEqual({
      StringEquals: { "sts:AWSServiceName": "codeartifact.amazonaws.com" },
    });
    expect(actionsOf(template).sort()).toEqual([
      "codeartifact:GetAuthorizationToken",
      "codeartifact:GetRepositoryEndpoint",
      "codeartifact:ReadFromRepository",
      "sts:GetServiceBearerToken",
    ]);
  });

  it("publish: adds PublishPackageVersion and PutPackageMetadata on packages", () => {
    const { template } = run([...BASE, "--cdk-qualifier", "none", "--codeartifact", "publish"]);
    const publish = statementsOf(template).find((s: Any) => s.Sid === "CodeArtifactPublishPackages");
    expect(publish.Action).toEqual(["codeartifact:PublishPackageVersion", "codeartifact:PutPackageMetadata"]);
    expect(publish.Resource["Fn::Sub"]).toMatch(/:package\/\*$/);
  });

  it("none with --read-only false and no CDK: no permissions, and a warning that says so", () => {
    const { template, warnings } = run([
      ...BASE,
      "--cdk-qualifier",
      "none",
      "--codeartifact",
      "none",
      "--read-only",
      "FALSE",
    ]);
    const role = template.Resources.DeploymentRole.Properties;
    expect(role.Policies).toBeUndefined();
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(warnings.join("\n")).toContain("no permissions");
  });
});

describe("template: ECR permissions", () => {
  const ecrOf = (extra: string[]) =>
    statementsOf(run([...BASE, "--cdk-qualifier", "none", "--codeartifact", "none", ...extra]).template);
  const REPOSITORIES = {
    "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*",
  };

  it("none by default: no ECR action at all", () => {
    expect(actionsOf(run(BASE).template).some((a) => a.startsWith("ecr:"))).toBe(false);
  });

  it("pull: the login on *, and reading images only in the account's repositories of the stack's region", () => {
    expect(ecrOf(["--ecr", "pull"])).toEqual([
      { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "EcrPullImages",
        Effect: "Allow",
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        Resource: REPOSITORIES,
      },
    ]);
  });

  it("push: adds the upload actions on the same repositories, in a policy named after it", () => {
    const { template } = run([...BASE, "--ecr", "PUSH"]);
    const policy = template.Resources.DeploymentRole.Properties.Policies.find(
      (p: Any) => p.PolicyName === "ecr-push",
    );
    const push = policy.PolicyDocument.Statement.find((s: Any) => s.Sid === "EcrPushImages");
    expect(push.Action).toEqual([
      "ecr:PutImage",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
    ]);
    expect(push.Resource).toEqual(REPOSITORIES);
    expect(policy.PolicyDocument.Statement.map((s: Any) => s.Sid)).toEqual([
      "EcrLogin",
      "EcrPullImages",
      "EcrPushImages",
    ]);
  });

  it("refuses another value, naming the choices", () => {
    const error = caught(() => runTemplate([...BASE, "--ecr", "write"], {}, noFiles));
    expect(error.message).toBe('--ecr must be none, pull or push, not "write".');
  });
});

describe("template: --audience", () => {
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

  it.each([
    ["a space", "deploy prod"],
    ["a comma", "a,b"],
    ["256 characters", "a".repeat(256)],
  ])("refuses an audience with %s, naming the flag", (_, audience) => {
    const error = caught(() => runTemplate([...BASE, "--audience", audience], {}, noFiles));
    expect(error.message).toContain("--audience");
    expect(error.message).toContain("repeat --audience");
  });
});

describe("template: several repositories in one account", () => {
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

describe("template: trust scope", () => {
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

  it("--flag=value means the same as --flag value, and repeatable flags take commas", () => {
    const spaced = run([
      ...BASE,
      "--repository-uuid",
      REPO2,
      "--max-session-duration",
      "7200",
      "--role-name",
      "r",
    ]);
    const equals = run([
      "--workspace=acme",
      `--workspace-uuid=${WS_UUID}`,
      `--repository-uuid=${REPO},${REPO2}`,
      "--max-session-duration=7200",
      "--role-name=r",
    ]);
    expect(equals.output).toBe(spaced.output);
    expect(spaced.template.Resources.DeploymentRole.Properties.MaxSessionDuration).toBe(7200);
  });

  it("--source-ip restricts aws:SourceIp; a bare address becomes /32", () => {
    const { template } = run([...BASE, "--source-ip", "192.0.2.7", "--source-ip", "2001:db8::/32"]);
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.IpAddress).toEqual({ "aws:SourceIp": ["192.0.2.7/32", "2001:db8::/32"] });
  });

  it("--ip-ranges takes Bitbucket's egress CIDRs from the published file, and warns about large steps", () => {
    const read: string[] = [];
    const { template, warnings } = run([...BASE, "--ip-ranges", FIXTURE], {}, (p) => {
      read.push(p);
      return readFileSync(p, "utf8");
    });
    expect(read).toEqual([FIXTURE]);
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.IpAddress).toEqual({
      "aws:SourceIp": ["192.0.2.0/28", "198.51.100.64/27", "2001:db8:100::/48"],
    });
    expect(warnings.join("\n")).toContain("atlassian-ip-ranges: true");
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

  it("accepts a pasted issuer URL as --workspace", () => {
    const { template } = run(["--workspace", `https://${HOST_PATH}`, ...BASE.slice(2)]);
    expect(template.Resources.BitbucketOidcProvider.Properties.Url).toBe(`https://${HOST_PATH}`);
  });
});

describe("template: --from-token", () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = (claims: Record<string, unknown>) =>
    `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.c2lnbmF0dXJl`;
  const claims = {
    iss: `https://${HOST_PATH}`,
    aud: AUDIENCE,
    sub: `${REPO}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
    exp: Math.floor(Date.now() / 1000) + 600,
    workspaceUuid: `{${WS_UUID}}`,
    repositoryUuid: REPO,
  };

  it("takes the workspace, its UUID and the repository UUID from the step's token", () => {
    const fromToken = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(claims) });
    expect(fromToken.output).toBe(run(BASE).output);
  });

  it("adds the token's repository to the ones given", () => {
    const { template } = run(["--from-token", "--repository-uuid", REPO2], {
      BITBUCKET_STEP_OIDC_TOKEN: token(claims),
    });
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toEqual([`${REPO}:*`, `${REPO2}:*`]);
  });

  it("on a deployment step, admits only that environment, as `claims` suggests, and says so", () => {
    const deployment = {
      ...claims,
      sub: `${REPO}:${ENV}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
      deploymentEnvironmentUuid: ENV,
    };
    const { template, notes } = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(deployment) });
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toBe(`${REPO}:${ENV}:*`);
    expect(condition).toEqual(conditionForClaims(deployment));
    expect(notes.join("\n")).toContain(`deployment step (environment ${ENV})`);
    expect(run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(claims) }).notes).toEqual([]);
  });

  it("takes a step's custom audiences from the token", () => {
    const custom = { ...claims, aud: ["deploy-prod"] };
    const { template } = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(custom) });
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual(["deploy-prod"]);
  });

  it("says what to do without a token", () => {
    const error = caught(() => runTemplate(["--from-token"], {}, noFiles));
    expect(error.kind).toBe("input");
    expect(told(error)).toContain("--from-token");
    expect(told(error)).toContain("BITBUCKET_STEP_OIDC_TOKEN");
    expect(told(error)).toContain("oidc: true");
  });

  it("refuses a --workspace that contradicts the token", () => {
    const error = caught(() =>
      runTemplate(
        ["--from-token", "--workspace", "other"],
        { BITBUCKET_STEP_OIDC_TOKEN: token(claims) },
        noFiles,
      ),
    );
    expect(told(error)).toContain("--workspace");
    expect(told(error)).toContain("acme");
  });
});

describe("template: bad flags exit 2 naming the flag", () => {
  it.each([
    ["an unknown flag, with a suggestion", [...BASE, "--role", "x"], ["--role", "--role-name"]],
    ["a flag without its value", [...BASE, "--role-name"], ["--role-name"]],
    ["an empty value", [...BASE, "--role-name="], ["--role-name"]],
    ["a value flag given twice", [...BASE, "--workspace", "acme"], ["--workspace", "once"]],
    ["a positional argument", [...BASE, "extra"], ["extra"]],
    ["a misspelt flag", [...BASE, "--cdk-acess", "full"], ["--cdk-acess", "--cdk-access"]],
    [
      "a bad workspace UUID",
      ["--workspace", "acme", "--workspace-uuid", "nope", "--repository-uuid", REPO],
      ["--workspace-uuid", "nope"],
    ],
    ["a bad repository UUID", [...BASE, "--repository-uuid", "{abc}"], ["--repository-uuid", "{abc}"]],
    [
      "a bad environment UUID",
      [...BASE, "--environment-uuid", "production"],
      ["--environment-uuid", "production"],
    ],
    ["a bad workspace", ["--workspace", "a b", ...BASE.slice(2)], ["--workspace"]],
    ["a bad CIDR", [...BASE, "--source-ip", "10.0.0.0/33"], ["--source-ip", "10.0.0.0/33"]],
    ["a bad role name", [...BASE, "--role-name", "deploy role"], ["--role-name"]],
    ["a too long role name", [...BASE, "--role-name", "r".repeat(65)], ["--role-name"]],
    ["a session below 3600", [...BASE, "--max-session-duration", "3599"], ["--max-session-duration", "3600"]],
    [
      "a session above 43200",
      [...BASE, "--max-session-duration", "43201"],
      ["--max-session-duration", "43200"],
    ],
    ["a session that is not a number", [...BASE, "--max-session-duration", "1h"], ["--max-session-duration"]],
    [
      "a bad provider ARN",
      [...BASE, "--existing-provider-arn", "arn:aws:iam::1:role/x"],
      ["--existing-provider-arn"],
    ],
    [
      "a provider of another workspace",
      [...BASE, "--existing-provider-arn", PROVIDER_ARN.replace("/acme/", "/other/")],
      ["--existing-provider-arn", "other"],
    ],
    ["a bad CDK qualifier", [...BASE, "--cdk-qualifier", "Too-Long-Qualifier"], ["--cdk-qualifier"]],
    ["a bad CDK access", [...BASE, "--cdk-access", "admin"], ["--cdk-access", "bootstrap-roles"]],
    ["a bad read-only", [...BASE, "--read-only", "yes"], ["--read-only", "true or false"]],
    ["a bad codeartifact", [...BASE, "--codeartifact", "write"], ["--codeartifact", "publish"]],
    ["a bad format", [...BASE, "--format", "xml"], ["--format", "json"]],
    ["a value for --from-token", [...BASE, "--from-token=maybe"], ["--from-token"]],
    ["a missing --ip-ranges file", [...BASE, "--ip-ranges", "/nope.json"], ["--ip-ranges", "/nope.json"]],
  ])("%s", (_, args, mentions) => {
    const error = caught(() => runTemplate([...args], {}, noFiles));
    expect(error.kind).toBe("input");
    for (const m of mentions) expect(told(error)).toContain(m);
    expect(error.fix).toBeTruthy();
  });

  it("reports every problem at once, the missing required flags included", () => {
    const error = caught(() => runTemplate(["--format", "xml", "--bogus"], {}, noFiles));
    expect(error.message).toMatch(/^5 problems/);
    for (const flag of ["--workspace ", "--workspace-uuid", "--repository-uuid", "--format", "--bogus"]) {
      expect(error.details.join("\n")).toContain(flag);
    }
  });

  it.each([
    ["not JSON", "{", "not JSON"],
    ["the wrong shape", '{"prefixes": []}', "`items`"],
    [
      "no Bitbucket egress entry",
      '{"items": [{"cidr": "192.0.2.0/24", "product": ["jira"], "direction": ["egress"]}]}',
      "no entry",
    ],
  ])("refuses an --ip-ranges file that is %s", (_, text, mention) => {
    const error = caught(() => runTemplate([...BASE, "--ip-ranges", "ranges.json"], {}, () => text));
    expect(told(error)).toContain("--ip-ranges");
    expect(told(error)).toContain(mention);
  });

  it("accepts the bounds of --max-session-duration", () => {
    for (const seconds of ["3600", "43200"]) {
      const { template } = run([...BASE, "--max-session-duration", seconds]);
      expect(template.Resources.DeploymentRole.Properties.MaxSessionDuration).toBe(Number(seconds));
    }
  });

  it("--help lists every flag of the contract", () => {
    for (const flag of [
      "--workspace ",
      "--workspace-uuid",
      "--repository-uuid",
      "--environment-uuid",
      "--audience",
      "--source-ip",
      "--ip-ranges",
      "--role-name",
      "--max-session-duration",
      "--existing-provider-arn",
      "--cdk-qualifier",
      "--cdk-access",
      "--read-only",
      "--codeartifact",
      "--ecr",
      "--from-token",
      "--format",
      "--help",
      "--version",
    ]) {
      expect(TEMPLATE_USAGE).toContain(flag);
    }
  });

  it("--help leads with the several-repositories case and sends users where Bitbucket shows the UUIDs", () => {
    const flagsStart = TEMPLATE_USAGE.indexOf("  --workspace NAME");
    const intro = TEMPLATE_USAGE.slice(0, flagsStart);
    expect(intro).toMatch(/--existing-provider-arn <ProviderArn output[\s\S]*--role-name/);
    expect(intro).toContain("repeat --repository-uuid");
    expect(intro).toContain("Repository settings → OpenID Connect");
    expect(TEMPLATE_USAGE).not.toContain("Workspace settings");
  });
});

describe("template: one message per bad flag", () => {
  const problemsOf = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const error = caught(() => runTemplate(args, env, noFiles));
    return error.details.length > 0 ? error.details : [error.message];
  };

  it.each([
    [
      "a malformed --workspace-uuid",
      ["--workspace", "acme", "--workspace-uuid", "nope", "--repository-uuid", REPO],
      "is not a UUID",
    ],
    [
      "a --workspace-uuid without its value",
      ["--workspace", "acme", "--repository-uuid", REPO, "--workspace-uuid"],
      "needs a value",
    ],
    [
      "a --role-name followed by another flag",
      [...BASE, "--role-name", "--format", "json"],
      "--role-name needs a value",
    ],
    ["an unknown flag with a value", [...BASE, "--role", "x"], "Unknown flag --role"],
    ["an unknown flag with its value inline", [...BASE, "--role=x"], "Unknown flag --role"],
    [
      "a malformed --repository-uuid",
      ["--workspace", "acme", "--workspace-uuid", WS_UUID, "--repository-uuid", "r"],
      "is not a UUID",
    ],
    [
      "a malformed --workspace",
      ["--workspace", "a b", "--workspace-uuid", WS_UUID, "--repository-uuid", REPO],
      "not a workspace slug",
    ],
  ])("%s", (_, args, mention) => {
    const problems = problemsOf(args);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(mention);
  });

  it("--from-token without a token: that one problem, not also every flag the token would have given", () => {
    const problems = problemsOf(["--from-token"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("oidc: true");
  });

  it("names the UUIDs' place in Bitbucket when they are missing", () => {
    const problems = problemsOf(["--workspace", "acme"]);
    expect(problems).toHaveLength(2);
    for (const problem of problems) expect(problem).toContain("Repository settings → OpenID Connect");
  });

  it("the ✖ fix for one problem points at it, for several at the list", () => {
    expect(caught(() => runTemplate([...BASE, "--ecr", "all"], {}, noFiles)).fix).toMatch(/^Fix that flag/);
    expect(caught(() => runTemplate(["--ecr", "all"], {}, noFiles)).fix).toMatch(
      /^Fix the flags listed above/,
    );
  });

  it("takes the workspace's audience, as Bitbucket shows it, for --workspace-uuid", () => {
    const { template } = run([
      "--workspace",
      "acme",
      "--workspace-uuid",
      AUDIENCE,
      "--repository-uuid",
      REPO,
    ]);
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual([AUDIENCE]);
  });
});

describe("template: trust policy size", () => {
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
