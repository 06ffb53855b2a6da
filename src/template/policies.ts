import type { CdkAccess, EcrAccess } from "./options.js";

/**
 * The deployment role's permissions, one function per job the pipe's users do: deploy with the
 * CDK, log in to CodeArtifact, pull and push images in ECR. Every ARN is account- and
 * region-scoped through CloudFormation's pseudo parameters, so one template serves every
 * partition (`aws`, `aws-cn`, `aws-us-gov`) and region.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Statement = { [key: string]: Json };

export const sub = (text: string): Json => ({ "Fn::Sub": text });

export const policyDocument = (statements: Statement[]): Json => ({
  Version: "2012-10-17",
  Statement: statements,
});

export function cdkStatements(qualifier: string, access: CdkAccess): Statement[] {
  const bootstrapRoles = sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-${qualifier}-*`);
  const assume: Statement = {
    Sid: "CdkAssumeBootstrapRoles",
    Effect: "Allow",
    Action: "sts:AssumeRole",
    Resource: bootstrapRoles,
  };
  if (access === "bootstrap-roles") return [assume];
  // Account-scoped asset bucket names: bucket names are global, and `cdk-<q>-assets-*` alone would
  // also match a bucket of that name in someone else's account.
  const assetBuckets = `cdk-${qualifier}-assets-\${AWS::AccountId}-*`;
  const v1Staging = "cdktoolkit-stagingbucket-*";
  return [
    {
      Sid: "CdkDeployStacksThroughChangeSets",
      Effect: "Allow",
      Action: [
        "cloudformation:CreateChangeSet",
        "cloudformation:DeleteChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:ListChangeSets",
        "cloudformation:CreateStack",
        "cloudformation:UpdateStack",
        "cloudformation:DeleteStack",
        "cloudformation:DescribeStacks",
        "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStackResources",
        "cloudformation:ListStackResources",
        "cloudformation:GetTemplate",
        "cloudformation:GetTemplateSummary",
      ],
      Resource: sub(`arn:\${AWS::Partition}:cloudformation:\${AWS::Region}:\${AWS::AccountId}:stack/*`),
    },
    {
      Sid: "CdkUploadAssetsToStagingBuckets",
      Effect: "Allow",
      Action: [
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
      ],
      Resource: [
        sub(`arn:\${AWS::Partition}:s3:::${assetBuckets}`),
        sub(`arn:\${AWS::Partition}:s3:::${assetBuckets}/*`),
        sub(`arn:\${AWS::Partition}:s3:::${v1Staging}`),
        sub(`arn:\${AWS::Partition}:s3:::${v1Staging}/*`),
      ],
    },
    {
      Sid: "CdkPassBootstrapRolesToCloudFormation",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: bootstrapRoles,
    },
    assume,
  ];
}

export function codeartifactStatements(access: "read" | "publish"): Statement[] {
  const arn = (resource: string) =>
    sub(`arn:\${AWS::Partition}:codeartifact:\${AWS::Region}:\${AWS::AccountId}:${resource}`);
  const statements: Statement[] = [
    {
      Sid: "CodeArtifactLoginNeedsBearerToken",
      Effect: "Allow",
      Action: "sts:GetServiceBearerToken",
      Resource: "*",
      Condition: { StringEquals: { "sts:AWSServiceName": "codeartifact.amazonaws.com" } },
    },
    {
      Sid: "CodeArtifactAuthorizationToken",
      Effect: "Allow",
      Action: "codeartifact:GetAuthorizationToken",
      Resource: arn("domain/*"),
    },
    {
      Sid: "CodeArtifactReadPackages",
      Effect: "Allow",
      Action: ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
      Resource: arn("repository/*"),
    },
  ];
  if (access === "publish") {
    statements.push({
      Sid: "CodeArtifactPublishPackages",
      Effect: "Allow",
      Action: ["codeartifact:PublishPackageVersion", "codeartifact:PutPackageMetadata"],
      Resource: arn("package/*"),
    });
  }
  return statements;
}

/**
 * What `ECR_LOGIN` and the `docker pull`/`push` after it need. GetAuthorizationToken takes no
 * resource (IAM only accepts `*` for it); the image actions are limited to the account's
 * repositories in the stack's region, the registries the pipe logs in to by default.
 */
export function ecrStatements(access: Exclude<EcrAccess, "none">): Statement[] {
  const repositories = sub(`arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/*`);
  const statements: Statement[] = [
    {
      Sid: "EcrLogin",
      Effect: "Allow",
      Action: "ecr:GetAuthorizationToken",
      Resource: "*",
    },
    {
      Sid: "EcrPullImages",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      Resource: repositories,
    },
  ];
  if (access === "push") {
    statements.push({
      Sid: "EcrPushImages",
      Effect: "Allow",
      Action: ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
      Resource: repositories,
    });
  }
  return statements;
}
