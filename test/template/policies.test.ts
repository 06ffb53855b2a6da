// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${AWS::...} placeholders are what these tests look for.
import { describe, expect, it } from "vitest";
import {
  type Any,
  actionsOf,
  BASE,
  ENV,
  policiesOf,
  policyProblems,
  run,
  statementsOf,
} from "../support/template.ts";

/**
 * The role's permissions (src/template/policies.ts): CDK, CodeArtifact and ECR statements, every
 * combination of them valid IAM by a grammar check independent of the code.
 */

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

describe("every combination of permissions is valid IAM", () => {
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

describe("CDK permissions", () => {
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

describe("CodeArtifact permissions", () => {
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

describe("ECR permissions", () => {
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
});
