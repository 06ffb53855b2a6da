import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { inputError, isPipeError } from "./errors.js";
import { readStepClaims } from "./token.js";
import {
  issuerHostPath,
  issuerUrl,
  parseCidr,
  parseIpRanges,
  parseUuid,
  policyLength,
  TRUST_POLICY_DEFAULT_LIMIT,
  TRUST_POLICY_MAX_LIMIT,
  trustCondition,
  trustPolicyDocument,
  workspaceAudience,
  workspaceFromIssuer,
} from "./trust.js";

/**
 * `template [flags]`: the CloudFormation template for the AWS side (the IAM OIDC provider and the
 * deployment role). Pure apart from reading `--ip-ranges FILE` and, with `--from-token`, the step
 * token from `env`: it returns the text and the warnings, the caller prints them.
 *
 * YAML output uses the long intrinsic-function form (`Fn::Sub:`, `Ref:`, `Fn::GetAtt:`), which
 * CloudFormation reads exactly like `!Sub`/`!Ref`/`!GetAtt`, instead of custom tags: any YAML
 * parser (yq, PyYAML in `aws cloudformation package`, cfn-lint, a reviewer's script) reads it
 * without a CloudFormation schema, and the YAML and JSON forms come from one and the same object.
 * It is written with the YAML 1.1 schema, so strings a 1.1 parser would take for something else
 * (`2012-10-17` a date, `yes`/`on` booleans) are quoted: CloudFormation's parser is 1.1. Objects
 * used twice are written out twice: CloudFormation rejects YAML anchors and aliases.
 */

export const DEFAULT_ROLE_NAME = "bitbucket-pipelines-deploy";
export const DEFAULT_CDK_QUALIFIER = "hnb659fds";
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

type FlagKind = "value" | "list" | "switch";
const FLAGS: Record<string, FlagKind> = {
  workspace: "value",
  "workspace-uuid": "value",
  "repository-uuid": "list",
  "environment-uuid": "list",
  "source-ip": "list",
  "ip-ranges": "value",
  "role-name": "value",
  "max-session-duration": "value",
  "existing-provider-arn": "value",
  "cdk-qualifier": "value",
  "cdk-access": "value",
  "read-only": "value",
  codeartifact: "value",
  "from-token": "switch",
  format: "value",
  help: "switch",
};

export const TEMPLATE_USAGE = `Usage: template [flags]   (prints a CloudFormation template for the AWS side)

  --workspace NAME                 Bitbucket workspace (slug) (*)
  --workspace-uuid UUID            workspace UUID, with or without braces (*)
  --repository-uuid UUID           repository allowed to assume the role (*, repeatable)
  --environment-uuid UUID          only deployment steps in this environment (repeatable)
  --source-ip CIDR                 only requests from this range (repeatable)
  --ip-ranges FILE                 only Bitbucket's egress ranges from ip-ranges.atlassian.com JSON
  --role-name NAME                 default ${DEFAULT_ROLE_NAME}
  --max-session-duration SECONDS   3600..43200, default 3600
  --existing-provider-arn ARN      reuse an existing IAM OIDC provider
  --cdk-qualifier Q                default ${DEFAULT_CDK_QUALIFIER}; none: no CDK permissions
  --cdk-access full|bootstrap-roles  default full
  --read-only true|false           attach ReadOnlyAccess, default true
  --codeartifact none|read|publish default read
  --from-token                     workspace, workspace UUID, repository UUID from BITBUCKET_STEP_OIDC_TOKEN
  --format yaml|json               default yaml
(*) required unless --from-token. Flags take --flag VALUE or --flag=VALUE.
`;

export interface TemplateResult {
  output: string;
  warnings: string[];
}

export type CdkAccess = "full" | "bootstrap-roles";
export type CodeArtifactAccess = "none" | "read" | "publish";

/** Everything the template depends on, validated. */
export interface TemplateOptions {
  workspace: string;
  workspaceUuid: string;
  repositoryUuids: string[];
  environmentUuids: string[];
  sourceCidrs: string[];
  roleName: string;
  maxSessionDuration: number;
  existingProviderArn?: string;
  /** The `--ip-ranges` file the CIDRs partly came from. */
  ipRangesFile?: string;
  /** undefined: no CDK statements (`--cdk-qualifier none`). */
  cdkQualifier?: string;
  cdkAccess: CdkAccess;
  readOnly: boolean;
  codeartifact: CodeArtifactAccess;
  format: "yaml" | "json";
}

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
};

/** The flag the user probably meant: one that starts with what was typed, else the nearest spelling. */
const suggestion = (name: string): string => {
  const known = Object.keys(FLAGS).filter((flag) => flag !== "help");
  const prefixed = name.length >= 3 ? known.find((flag) => flag.startsWith(name)) : undefined;
  const nearest = known.map((flag) => ({ flag, d: distance(name, flag) })).sort((x, y) => x.d - y.d)[0];
  const best = prefixed ?? (nearest && nearest.d <= 2 ? nearest.flag : undefined);
  return best ? ` Did you mean --${best}?` : "";
};

interface ParsedArgs {
  values: Map<string, string[]>;
  problems: string[];
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string[]>();
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--") || arg === "--") {
      problems.push(`Unexpected argument "${arg}": every input is a --flag (see template --help).`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = FLAGS[name];
    if (!kind) {
      problems.push(`Unknown flag --${name}.${suggestion(name)} template --help lists the flags.`);
      if (eq === -1 && argv[i + 1] !== undefined && !argv[i + 1]?.startsWith("--")) i++;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else if (kind !== "switch") {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        value = next;
        i++;
      }
    }
    if (kind === "switch") {
      const on = value === undefined ? "true" : value.toLowerCase();
      if (on !== "true" && on !== "false") {
        problems.push(`--${name} takes no value (or =true/=false), not "${value}".`);
        continue;
      }
      values.set(name, [on]);
      continue;
    }
    if (value === undefined || value.trim() === "") {
      problems.push(`--${name} needs a value: --${name} VALUE or --${name}=VALUE.`);
      continue;
    }
    const list = values.get(name) ?? [];
    if (kind === "value" && list.length > 0) {
      problems.push(`--${name} is given more than once; give it once.`);
      continue;
    }
    // Repeatable flags also take comma-separated values: UUIDs and CIDRs never contain commas.
    const items =
      kind === "list"
        ? value
            .split(",")
            .map((v) => v.trim())
            .filter((v) => v !== "")
        : [value.trim()];
    values.set(name, [...list, ...items]);
  }
  return { values, problems };
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const CDK_QUALIFIER = /^[a-z0-9]{1,10}$/;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;

function oneOf<T extends string>(
  values: Map<string, string[]>,
  name: string,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  const raw = values.get(name)?.[0];
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase() as T;
  if (allowed.includes(value)) return value;
  problems.push(`--${name} must be ${allowed.join(", ").replace(/, ([^,]*)$/, " or $1")}, not "${raw}".`);
  return fallback;
}

/** Turns the flags (and, with `--from-token`, the step token) into options; throws every problem at once. */
export function parseTemplateOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): TemplateOptions {
  const { values, problems } = parseArgs(argv);
  const first = (name: string) => values.get(name)?.[0];

  let workspace = first("workspace");
  if (workspace !== undefined) {
    // A pasted issuer URL is as good as the slug.
    workspace = workspaceFromIssuer(workspace) ?? workspace.replace(/^\/+|\/+$/g, "");
    if (!WORKSPACE.test(workspace)) {
      problems.push(
        `--workspace "${first("workspace")}" is not a workspace slug: letters, digits, "-", "_", "." (as in bitbucket.org/<workspace>/).`,
      );
    }
  }
  let workspaceUuid: string | undefined;
  const workspaceUuidRaw = first("workspace-uuid");
  if (workspaceUuidRaw !== undefined) {
    workspaceUuid = parseUuid(workspaceUuidRaw);
    if (!workspaceUuid) problems.push(`--workspace-uuid "${workspaceUuidRaw}" is not a UUID.`);
  }
  const uuids = (name: string): string[] =>
    (values.get(name) ?? []).flatMap((raw) => {
      const uuid = parseUuid(raw);
      if (!uuid) problems.push(`--${name} "${raw}" is not a UUID.`);
      return uuid ? [uuid] : [];
    });
  const repositoryUuids = uuids("repository-uuid");
  const environmentUuids = uuids("environment-uuid");

  const sourceCidrs: string[] = [];
  for (const raw of values.get("source-ip") ?? []) {
    const cidr = parseCidr(raw);
    if (cidr) sourceCidrs.push(cidr);
    else
      problems.push(`--source-ip "${raw}" is not an IPv4 or IPv6 CIDR (e.g. 192.0.2.0/24 or 2001:db8::/32).`);
  }

  if (first("from-token") === "true") {
    try {
      const claims = readStepClaims(env);
      const tokenWorkspace = workspaceFromIssuer(claims.iss);
      const audienceUuid = (Array.isArray(claims.aud) ? claims.aud : [claims.aud])
        .map((aud) => /^ari:cloud:bitbucket::workspace\/(.+)$/.exec(aud)?.[1])
        .find((uuid) => uuid !== undefined);
      const tokenWorkspaceUuid = parseUuid(claims.workspaceUuid ?? audienceUuid ?? "");
      const tokenRepositoryUuid = parseUuid(claims.repositoryUuid ?? claims.sub.split(":")[0] ?? "");
      if (!tokenWorkspace)
        problems.push(`--from-token: the token's issuer "${claims.iss}" is not a Bitbucket workspace's.`);
      else if (workspace === undefined) workspace = tokenWorkspace;
      else if (workspace !== tokenWorkspace) {
        problems.push(
          `--workspace "${workspace}" differs from the token's workspace "${tokenWorkspace}": drop one.`,
        );
      }
      if (!tokenWorkspaceUuid) problems.push("--from-token: the token carries no workspace UUID.");
      else if (workspaceUuid === undefined) workspaceUuid = tokenWorkspaceUuid;
      else if (workspaceUuid !== tokenWorkspaceUuid) {
        problems.push(
          `--workspace-uuid ${workspaceUuid} differs from the token's ${tokenWorkspaceUuid}: drop one.`,
        );
      }
      if (!tokenRepositoryUuid) problems.push("--from-token: the token carries no repository UUID.");
      else if (!repositoryUuids.includes(tokenRepositoryUuid)) repositoryUuids.unshift(tokenRepositoryUuid);
    } catch (error) {
      if (!isPipeError(error)) throw error;
      problems.push(`--from-token: ${error.message}${error.fix ? ` ${error.fix}` : ""}`);
    }
  }

  const ipRangesFile = first("ip-ranges");
  if (ipRangesFile !== undefined) sourceCidrs.push(...readIpRanges(ipRangesFile, problems, readFile));

  if (workspace === undefined)
    problems.push("--workspace is required (or --from-token in a step with `oidc: true`).");
  if (workspaceUuid === undefined) {
    problems.push("--workspace-uuid is required (Workspace settings in Bitbucket, or --from-token).");
  }
  if (repositoryUuids.length === 0 && !values.has("repository-uuid")) {
    problems.push(
      "--repository-uuid is required, once per repository (Repository settings, or --from-token).",
    );
  }

  const roleName = first("role-name") ?? DEFAULT_ROLE_NAME;
  if (!ROLE_NAME.test(roleName)) {
    problems.push(
      `--role-name "${roleName}" is not an IAM role name: 1-64 of letters, digits and + = , . @ _ -.`,
    );
  }

  let maxSessionDuration = 3600;
  const durationRaw = first("max-session-duration");
  if (durationRaw !== undefined) {
    maxSessionDuration = /^\d+$/.test(durationRaw) ? Number(durationRaw) : Number.NaN;
    if (!(maxSessionDuration >= 3600 && maxSessionDuration <= 43200)) {
      problems.push(`--max-session-duration must be whole seconds from 3600 to 43200, not "${durationRaw}".`);
    }
  }

  const existingProviderArn = first("existing-provider-arn");
  if (existingProviderArn !== undefined) {
    const match = PROVIDER_ARN.exec(existingProviderArn);
    if (!match) {
      problems.push(
        `--existing-provider-arn "${existingProviderArn}" is not an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<host/path>).`,
      );
    } else if (workspace !== undefined && WORKSPACE.test(workspace)) {
      const expected = issuerHostPath(issuerUrl(workspace));
      if (match[1] !== expected) {
        problems.push(
          `--existing-provider-arn is a provider for "${match[1]}", but workspace ${workspace}'s tokens come from "${expected}": IAM would never match them.`,
        );
      }
    }
  }

  let cdkQualifier: string | undefined = first("cdk-qualifier") ?? DEFAULT_CDK_QUALIFIER;
  if (cdkQualifier.toLowerCase() === "none") cdkQualifier = undefined;
  else if (!CDK_QUALIFIER.test(cdkQualifier)) {
    problems.push(
      `--cdk-qualifier "${cdkQualifier}" is not a CDK qualifier: 1-10 lowercase letters or digits (or none).`,
    );
  }
  const cdkAccess = oneOf(values, "cdk-access", ["full", "bootstrap-roles"] as const, "full", problems);
  const readOnly = oneOf(values, "read-only", ["true", "false"] as const, "true", problems) === "true";
  const codeartifact = oneOf(values, "codeartifact", ["none", "read", "publish"] as const, "read", problems);
  const format = oneOf(values, "format", ["yaml", "json"] as const, "yaml", problems);

  if (problems.length > 0 || workspace === undefined || workspaceUuid === undefined) {
    throw flagProblems(problems);
  }
  const options: TemplateOptions = {
    workspace,
    workspaceUuid,
    repositoryUuids: [...new Set(repositoryUuids)],
    environmentUuids: [...new Set(environmentUuids)],
    sourceCidrs: [...new Set(sourceCidrs)],
    roleName,
    maxSessionDuration,
    cdkAccess,
    readOnly,
    codeartifact,
    format,
  };
  if (existingProviderArn !== undefined) options.existingProviderArn = existingProviderArn;
  if (ipRangesFile !== undefined) options.ipRangesFile = ipRangesFile;
  if (cdkQualifier !== undefined) options.cdkQualifier = cdkQualifier;
  return options;
}

function readIpRanges(path: string, problems: string[], readFile: (path: string) => string): string[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(`--ip-ranges: cannot read "${path}": ${reason}`);
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push(
      `--ip-ranges: "${path}" is not JSON (download https://ip-ranges.atlassian.com/ unchanged).`,
    );
    return [];
  }
  try {
    const cidrs = parseIpRanges(json);
    if (cidrs.length === 0) {
      problems.push(`--ip-ranges: "${path}" has no entry with product bitbucket and direction egress.`);
    }
    return cidrs;
  } catch (error) {
    if (!isPipeError(error)) throw error;
    problems.push(`--ip-ranges: ${error.message}`);
    return [];
  }
}

const flagProblems = (problems: readonly string[]) =>
  inputError(
    problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems with the template flags`,
    {
      details: problems.length === 1 ? [] : problems.map((p) => `- ${p}`),
      fix: "Fix the flags named above and run `template` again (`template --help` lists every flag).",
    },
  );

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Statement = { [key: string]: Json };

const sub = (text: string): Json => ({ "Fn::Sub": text });

function cdkStatements(qualifier: string, access: CdkAccess): Statement[] {
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

function codeartifactStatements(access: "read" | "publish"): Statement[] {
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

const policyDocument = (statements: Statement[]): Json => ({ Version: "2012-10-17", Statement: statements });

/** The template as an object, plus the warnings about it. Throws an input error when IAM could not take it. */
export function buildTemplate(options: TemplateOptions): {
  template: Record<string, Json>;
  warnings: string[];
} {
  const warnings: string[] = [];
  const issuer = issuerUrl(options.workspace);
  const hostPath = issuerHostPath(issuer);
  const audience = workspaceAudience(options.workspaceUuid);
  const condition = trustCondition({
    issuer,
    audience,
    repositoryUuids: options.repositoryUuids,
    environmentUuids: options.environmentUuids,
    sourceCidrs: options.sourceCidrs,
  });

  // IAM counts the policy as CloudFormation sends it, with the provider's ARN in place of the Ref.
  const sizingArn =
    options.existingProviderArn ?? `arn:${SIZING_PARTITION}:iam::${SIZING_ACCOUNT}:oidc-provider/${hostPath}`;
  const size = policyLength(trustPolicyDocument(sizingArn, condition));
  const patterns = Array.isArray(condition.StringLike[`${hostPath}:sub`])
    ? (condition.StringLike[`${hostPath}:sub`] as string[]).length
    : 1;
  const advice = `It holds ${patterns} sub pattern(s) (repositories x environments) and ${options.sourceCidrs.length} CIDR(s): use fewer or aggregated CIDRs, or one role per group of repositories (run template once per group, with a different --role-name).`;
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
        ClientIdList: [audience],
        ThumbprintList: [{ Ref: "ProviderThumbprint" }],
      },
    };
  } else {
    warnings.push(
      `Reusing ${options.existingProviderArn}: its client IDs (audiences) must include ${audience} (aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${options.existingProviderArn}).`,
    );
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
  if (policies.length === 0 && !options.readOnly) {
    warnings.push(
      "The role grants no permissions (--read-only false, --cdk-qualifier none, --codeartifact none): attach your own.",
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
    RoleArn: {
      Description: "AWS_ROLE_ARN for the pipe",
      Value: { "Fn::GetAtt": [ROLE_LOGICAL_ID, "Arn"] },
    },
    ProviderArn: {
      Description: "The IAM OIDC identity provider of the workspace",
      Value: providerRef,
    },
  };
  return { template, warnings };
}

/** The `template` command: flags in, template text and warnings out. Bad flags: an input error naming them. */
export function runTemplate(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): TemplateResult {
  if (argv.includes("--help") || argv.includes("-h")) return { output: TEMPLATE_USAGE, warnings: [] };
  const options = parseTemplateOptions(argv, env, readFile);
  const { template, warnings } = buildTemplate(options);
  const output =
    options.format === "json"
      ? `${JSON.stringify(template, null, 2)}\n`
      : stringify(template, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });
  return { output, warnings };
}
