import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { CfnInclude } from "aws-cdk-lib/cloudformation-include";
import { afterAll, describe, expect, it } from "vitest";
import { runTemplate } from "../../src/template/index.js";

/**
 * A real CloudFormation consumer reads the generated template: CfnInclude parses every resource
 * into the CDK's L1 classes and resolves every Ref, Fn::GetAtt and Fn::Sub reference, refusing
 * a template that names something it does not define. (Measured: it keeps unknown properties as
 * overrides rather than refusing them, so property names are checked by test/template/render.test.ts and policies.test.ts.)
 */
const work = mkdtempSync(path.join(tmpdir(), "cfn-include-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// Its cloud assembly goes under `work` too, so the run leaves nothing in the temp folder.
let apps = 0;
const newApp = () => new App({ outdir: path.join(work, `cdk.out-${++apps}`) });

const FLAGS = [
  "--workspace",
  "acme",
  "--workspace-uuid",
  "{11111111-2222-4333-8444-555555555555}",
  "--repository-uuid",
  "{aaaaaaaa-0000-4000-8000-000000000001}",
];

function include(argv: string[], file: string) {
  const { output } = runTemplate(argv, {});
  const templateFile = path.join(work, file);
  writeFileSync(templateFile, output);
  const stack = new Stack(newApp(), "Deploy");
  const included = new CfnInclude(stack, "Bitbucket", { templateFile });
  return { included, synthesized: Template.fromStack(stack) };
}

describe("the template, read by aws-cdk-lib's CfnInclude", () => {
  for (const [name, extra] of [
    ["YAML, defaults", []],
    [
      "JSON, environments, addresses, bootstrap roles, publish",
      [
        "--format",
        "json",
        "--environment-uuid",
        "{eeeeeeee-0000-4000-8000-000000000005}",
        "--source-ip",
        "203.0.113.0/24",
        "--cdk-access",
        "bootstrap-roles",
        "--codeartifact",
        "publish",
      ],
    ],
    [
      "no CDK, no read-only, no CodeArtifact",
      ["--cdk-qualifier", "none", "--read-only", "false", "--codeartifact", "none"],
    ],
    ["ECR pull, one custom audience", ["--ecr", "pull", "--audience", "deploy-prod"]],
    [
      "JSON, ECR push, two custom audiences, CDK bootstrap roles",
      [
        "--format",
        "json",
        "--ecr",
        "push",
        "--audience",
        "deploy-prod",
        "--audience",
        "deploy-test",
        "--cdk-access",
        "bootstrap-roles",
      ],
    ],
  ] as const) {
    it(`includes every resource (${name})`, () => {
      const { included, synthesized } = include(
        [...FLAGS, ...extra],
        `${name.replace(/\W+/g, "-")}.template`,
      );
      expect(included.getResource("BitbucketOidcProvider").cfnResourceType).toBe("AWS::IAM::OIDCProvider");
      expect(included.getResource("DeploymentRole").cfnResourceType).toBe("AWS::IAM::Role");
      synthesized.resourceCountIs("AWS::IAM::Role", 1);
      synthesized.hasOutput("RoleArn", {});
      synthesized.hasOutput("ProviderArn", {});
    });
  }

  it("reuses an existing provider without creating one", () => {
    const provider =
      "arn:aws:iam::111111111111:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
    const { synthesized } = include(
      [...FLAGS, "--existing-provider-arn", provider, "--role-name", "other-deploy", "--ecr", "push"],
      "existing.template",
    );
    synthesized.resourceCountIs("AWS::IAM::OIDCProvider", 0);
    synthesized.resourceCountIs("AWS::IAM::Role", 1);
    synthesized.hasResourceProperties("AWS::IAM::Role", { RoleName: "other-deploy" });
  });

  it("refuses a template whose Fn::Sub names something undefined (the check is real)", () => {
    const { output } = runTemplate([...FLAGS, "--format", "json"], {});
    const broken = JSON.parse(output);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
    broken.Resources.DeploymentRole.Properties.RoleName = { "Fn::Sub": "${NotDefined}-deploy" };
    const templateFile = path.join(work, "broken.json");
    writeFileSync(templateFile, JSON.stringify(broken));
    expect(() => new CfnInclude(new Stack(newApp(), "Broken"), "Bitbucket", { templateFile })).toThrow(
      /NotDefined/,
    );
  });
});
