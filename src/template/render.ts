import { stringify } from "yaml";
import { inputError } from "../errors.js";
import {
  issuerHostPath,
  issuerUrl,
  policyLength,
  TRUST_POLICY_DEFAULT_LIMIT,
  TRUST_POLICY_MAX_LIMIT,
  trustCondition,
  trustPolicyDocument,
} from "../trust.js";
import { DEFAULT_ROLE_NAME, type TemplateOptions } from "./options.js";
import {
  cdkStatements,
  codeartifactStatements,
  ecrStatements,
  type Json,
  policyDocument,
  sub,
} from "./policies.js";

/**
 * The template as an object, then as text. YAML output uses the long intrinsic-function form
 * (`Fn::Sub:`, `Ref:`, `Fn::GetAtt:`), which CloudFormation reads exactly like `!Sub`/`!Ref`/
 * `!GetAtt`, instead of custom tags: any YAML parser (yq, PyYAML in `aws cloudformation package`,
 * cfn-lint, a reviewer's script) reads it without a CloudFormation schema, and the YAML and JSON
 * forms come from one and the same object. It is written with the YAML 1.1 schema, so strings a
 * 1.1 parser would take for something else (`2012-10-17` a date, `yes`/`on` booleans) are quoted:
 * CloudFormation's parser is 1.1. Objects used twice are written out twice: CloudFormation rejects
 * YAML anchors and aliases.
 */

export const PROVIDER_LOGICAL_ID = "BitbucketOidcProvider";
export const ROLE_LOGICAL_ID = "DeploymentRole";

/**
 * Thumbprints. IAM's CreateOpenIDConnectProvider no longer needs one (since 2024 it fetches the
 * top intermediate CA's thumbprint itself), and for an IdP whose TLS certificate chains to a CA in
 * IAM's trusted library, as api.bitbucket.org's does, IAM verifies the JWKS endpoint with that
 * library and does not use thumbprints at all (it falls back to them only when it cannot fetch the
 * certificate or TLS 1.3 is required). CloudFormation, however, still sends a null list when the
 * property is left out, and IAM's handler rejects it ("Value null at 'thumbprintList' failed to
 * satisfy constraint: Member must not be null": aws-cloudformation/cloudformation-coverage-roadmap
 * #2092, open; aws-cdk #31050). So the template always sets ThumbprintList, from a parameter whose
 * default is the thumbprint community Bitbucket templates ship (the DigiCert SHA2 High Assurance
 * Server CA that api.bitbucket.org's certificate chained to). To pin the current one, pass
 * `--parameter-overrides ProviderThumbprint=<sha1>` (see docs/setup-aws.md for the openssl line).
 */
export const DEFAULT_PROVIDER_THUMBPRINT = "a031c46782e6e6c662c2c87c76da9aa62ccabd8e";

/** A realistic account id to measure the trust policy with the provider ARN filled in. */
const SIZING_ACCOUNT = "123456789012";
/** The longest partition name in common use, so that the measured size is never too small. */
const SIZING_PARTITION = "aws-us-gov";

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The template as an object, plus the warnings about it. Throws an input error when IAM could not take it. */
export function buildTemplate(options: TemplateOptions): {
  template: Record<string, Json>;
  warnings: string[];
} {
  const warnings: string[] = [];
  const issuer = issuerUrl(options.workspace);
  const hostPath = issuerHostPath(issuer);
  const condition = trustCondition({
    issuer,
    audience: options.audiences,
    repositoryUuids: options.repositoryUuids,
    environmentUuids: options.environmentUuids,
    sourceCidrs: options.sourceCidrs,
  });

  // IAM counts the policy as CloudFormation sends it, with the provider's ARN in place of the Ref.
  const sizingArn =
    options.existingProviderArn ?? `arn:${SIZING_PARTITION}:iam::${SIZING_ACCOUNT}:oidc-provider/${hostPath}`;
  const size = policyLength(trustPolicyDocument(sizingArn, condition));
  const subs = condition.StringLike[`${hostPath}:sub`];
  const patterns = Array.isArray(subs) ? subs.length : 1;
  const advice = `It holds ${count(patterns, "sub pattern", "sub patterns")} (repositories × environments) and ${count(options.sourceCidrs.length, "CIDR", "CIDRs")}: use fewer or aggregated CIDRs, or one role per group of repositories (run template once per group, with a different --role-name).`;
  if (size > TRUST_POLICY_MAX_LIMIT) {
    throw inputError(
      `The trust policy would be ${size} characters: more than IAM's ${TRUST_POLICY_MAX_LIMIT}-character maximum for a role trust policy (${TRUST_POLICY_DEFAULT_LIMIT} by default).`,
      { fix: advice },
    );
  }
  if (size > TRUST_POLICY_DEFAULT_LIMIT) {
    warnings.push(
      `The trust policy is about ${size} characters: IAM allows ${TRUST_POLICY_DEFAULT_LIMIT} by default and ${TRUST_POLICY_MAX_LIMIT} with a quota increase ("Role trust policy length" in Service Quotas, IAM). Without it the stack fails with LimitExceeded. ${advice}`,
    );
  }

  const providerRef: Json = options.existingProviderArn ?? { Ref: PROVIDER_LOGICAL_ID };
  const resources: Record<string, Json> = {};
  const parameters: Record<string, Json> = {};
  if (options.existingProviderArn === undefined) {
    parameters.ProviderThumbprint = {
      Type: "String",
      Default: DEFAULT_PROVIDER_THUMBPRINT,
      AllowedPattern: "^[0-9a-fA-F]{40}$",
      Description:
        "SHA-1 thumbprint for the OIDC provider. IAM verifies api.bitbucket.org with its library of trusted CAs and keeps this only as a fallback; CloudFormation still requires a value.",
    };
    resources[PROVIDER_LOGICAL_ID] = {
      Type: "AWS::IAM::OIDCProvider",
      Properties: {
        Url: issuer,
        ClientIdList: [...options.audiences],
        ThumbprintList: [{ Ref: "ProviderThumbprint" }],
      },
    };
  } else {
    const arn = options.existingProviderArn;
    warnings.push(
      `Reusing ${arn}: its audiences (client IDs) must include ${options.audiences.join(", ")}. Check with \`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${arn}\`; add one with \`aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id <audience>\`.`,
    );
    if (options.roleName === DEFAULT_ROLE_NAME) {
      warnings.push(
        `The role keeps the default name ${DEFAULT_ROLE_NAME}: if the stack that created the provider used it too, this stack fails with "already exists". Give each repository's role its own --role-name.`,
      );
    }
  }

  const policies: Json[] = [];
  if (options.cdkQualifier !== undefined) {
    policies.push({
      PolicyName: "cdk-deploy",
      PolicyDocument: policyDocument(cdkStatements(options.cdkQualifier, options.cdkAccess)),
    });
  }
  if (options.codeartifact !== "none") {
    policies.push({
      PolicyName: `codeartifact-${options.codeartifact}`,
      PolicyDocument: policyDocument(codeartifactStatements(options.codeartifact)),
    });
  }
  if (options.ecr !== "none") {
    policies.push({
      PolicyName: `ecr-${options.ecr}`,
      PolicyDocument: policyDocument(ecrStatements(options.ecr)),
    });
  }
  if (policies.length === 0 && !options.readOnly) {
    warnings.push(
      "The role grants no permissions (--read-only false, --cdk-qualifier none, --codeartifact none, --ecr none): attach your own.",
    );
  }

  const role: Record<string, Json> = {
    RoleName: options.roleName,
    Description: `Assumed by Bitbucket Pipelines steps of workspace ${options.workspace} through OIDC (bitbucket-aws-oidc)`,
    MaxSessionDuration: options.maxSessionDuration,
    AssumeRolePolicyDocument: trustPolicyDocument(
      providerRef as string | object,
      condition,
    ) as unknown as Json,
  };
  if (options.readOnly)
    role.ManagedPolicyArns = [sub(`arn:\${AWS::Partition}:iam::aws:policy/ReadOnlyAccess`)];
  if (policies.length > 0) role.Policies = policies;
  resources[ROLE_LOGICAL_ID] = { Type: "AWS::IAM::Role", Properties: role };

  if (options.ipRangesFile !== undefined) {
    warnings.push(
      "Bitbucket Cloud steps leave from Atlassian's published ranges only with `runtime: cloud: atlassian-ip-ranges: true` (steps of size 4x or larger); other steps come from general AWS addresses and will be refused. Self-hosted runners come from their own addresses: add them with --source-ip.",
    );
  }
  for (const cidr of options.sourceCidrs) {
    if (cidr.endsWith("/0")) warnings.push(`--source-ip ${cidr} admits every address: it restricts nothing.`);
  }

  const template: Record<string, Json> = {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Bitbucket Pipelines OIDC for workspace ${options.workspace}: ${
      options.existingProviderArn === undefined ? "the IAM OIDC identity provider and " : ""
    }the role ${options.roleName} (generated by bitbucket-aws-oidc template). Review the permissions before deploying.`,
  };
  if (Object.keys(parameters).length > 0) template.Parameters = parameters;
  template.Resources = resources;
  template.Outputs = {
    RoleArn: { Description: "AWS_ROLE_ARN for the pipe", Value: { "Fn::GetAtt": [ROLE_LOGICAL_ID, "Arn"] } },
    ProviderArn: {
      Description:
        "The workspace's IAM OIDC identity provider: for another repository's role in this account, run template with --existing-provider-arn set to it and its own --role-name",
      Value: providerRef,
    },
  };
  return { template, warnings };
}

export const renderTemplate = (template: Record<string, Json>, format: "yaml" | "json"): string =>
  format === "json"
    ? `${JSON.stringify(template, null, 2)}\n`
    : stringify(template, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });
