import { describeFault, errorCode } from "./aws/errors.js";
import { VARIABLES } from "./config/variables.js";
import { type PipeError, refusedError } from "./errors.js";
import { escapeControl, printableJson } from "./printable.js";
import type { Claims } from "./token.js";
import { conditionForClaims, issuerHostPath } from "./trust.js";

/**
 * Turns an AWS refusal into what a person needs: what was refused, the token's non-secret claims,
 * the trust-policy condition that would admit this step, and the likely causes for that code.
 */

const when = (seconds: number | undefined) =>
  seconds === undefined ? "unknown" : new Date(seconds * 1000).toISOString();

/** The token's claims as log lines; none of them is secret, all of them untrusted (escaped). */
export function claimLines(claims: Claims): string[] {
  const lines = [
    `  iss: ${escapeControl(claims.iss)}`,
    `  aud: ${escapeControl(Array.isArray(claims.aud) ? claims.aud.join(", ") : claims.aud)}`,
    `  sub: ${escapeControl(claims.sub)}`,
  ];
  for (const name of [
    "workspaceUuid",
    "repositoryUuid",
    "deploymentEnvironmentUuid",
    "branchName",
  ] as const) {
    const value = claims[name];
    if (value !== undefined) lines.push(`  ${name}: ${escapeControl(value)}`);
  }
  lines.push(`  issued: ${when(claims.iat)}`, `  expires: ${when(claims.exp)}`);
  return lines;
}

/** A policy fragment as indented log lines. */
export const jsonLines = (value: unknown): string[] =>
  printableJson(value, 2)
    .split("\n")
    .map((line) => `  ${line}`);

export const conditionLines = (claims: Claims): string[] =>
  jsonLines({ Condition: conditionForClaims(claims) });

/** Refusals about the trust between the step and the role: only these get the claims and the condition. */
const TRUST_CODES = new Set(["AccessDenied", "InvalidIdentityToken", "IDPRejectedClaim"]);

function trustCauses(code: string, message: string, claims: Claims, roleArn: string): string[] {
  const provider = `arn:aws:iam::<account>:oidc-provider/${issuerHostPath(claims.iss)}`;
  const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  switch (code) {
    case "AccessDenied":
      return [
        `the role ${roleArn} does not exist, or the ARN has a typo (AWS answers AccessDenied for both)`,
        `its trust policy's Principal is not {"Federated": "${provider}"} in the role's own account`,
        "its trust policy's Condition does not match this step's aud/sub (compare with the Condition above; UUIDs keep their braces)",
        "the Action is not sts:AssumeRoleWithWebIdentity",
        "it has an aws:SourceIp condition, but this step does not leave from those addresses (Bitbucket Cloud uses Atlassian's published ranges only with `runtime: cloud: atlassian-ip-ranges: true` on large steps)",
      ];
    case "InvalidIdentityToken":
      return [
        /provider/i.test(message)
          ? `no IAM OIDC identity provider for ${claims.iss} in the role's account: create one with exactly that URL (no trailing slash)`
          : `the IAM OIDC identity provider for ${claims.iss} is missing or its URL differs (no trailing slash)`,
        `the provider's audiences (client ids) do not include ${aud}`,
        "the token was changed, or was issued for another workspace",
      ];
    case "IDPRejectedClaim":
      return [
        `the identity provider rejected a claim: check that its audiences include ${aud}`,
        "the role's trust policy conditions use claims IAM does not pass (only aud and sub can be matched)",
      ];
    default:
      return [];
  }
}

/** What to do, naming the role refused: the closing line, below the claims and the condition. */
function trustFix(code: string, role: string): string {
  switch (code) {
    case "AccessDenied":
      return `Make the trust policy of ${role} admit this step with the Condition above (the pipe's \`claims\` command prints it too), and check the role ARN.`;
    case "InvalidIdentityToken":
      return `Create the IAM OIDC identity provider for the iss above in the account of ${role}, with the aud above as its audience (the pipe's \`template\` command generates it).`;
    case "IDPRejectedClaim":
      return `Check the identity provider's audiences and the trust policy of ${role} against the claims above.`;
    default:
      return `Check ${role} and its trust policy against the claims and the Condition above.`;
  }
}

/** What to do about a refusal that is not about trust: claims and conditions would only mislead. */
function otherFix(code: string, message: string, claims: Claims): string | undefined {
  switch (code) {
    case "ExpiredTokenException":
      return `STS saw the token as expired (issued ${when(claims.iat)}, expires ${when(claims.exp)}): run the pipe at the start of the step, and check the runner's clock (self-hosted runners: NTP).`;
    case "RegionDisabledException":
      return "STS is not activated in this region: activate it in IAM > Account settings, or choose another AWS_REGION.";
    case "ValidationError":
      return /DurationSeconds|MaxSessionDuration/i.test(message)
        ? "AWS_ROLE_DURATION_SECONDS is above the role's maximum session duration: lower it, or raise the role's MaxSessionDuration (IAM console: the role, Edit under Summary; or `template --max-session-duration`)."
        : "Check AWS_ROLE_SESSION_NAME, AWS_ROLE_DURATION_SECONDS and the session policies against AWS's message, and run the step again.";
    case "MalformedPolicyDocument":
      return "AWS_SESSION_POLICY is valid JSON but not a valid IAM policy: fix its grammar and run the step again.";
    case "PackedPolicyTooLarge":
      return "AWS_SESSION_POLICY and AWS_SESSION_POLICY_ARNS are too large together once packed: shorten the policy or use fewer ARNs.";
    default:
      return undefined;
  }
}

/** A refusal of sts:AssumeRoleWithWebIdentity: for a trust refusal, the full diagnosis. */
export function webIdentityRefusal(
  error: unknown,
  claims: Claims,
  roleArn: string,
  label = "the role",
): PipeError {
  const code = errorCode(error) ?? "Error";
  const message = (error as Error).message ?? "";
  const summary = `AWS refused sts:AssumeRoleWithWebIdentity for ${label} ${roleArn}: ${describeFault(error)}`;
  const other = TRUST_CODES.has(code) ? undefined : otherFix(code, message, claims);
  if (other !== undefined) return refusedError(summary, { fix: other, cause: error });
  const causes = trustCauses(code, message, claims, roleArn);
  return refusedError(summary, {
    details: [
      "The step's OIDC token (claims, not secret):",
      ...claimLines(claims),
      "A trust policy that admits this step has:",
      ...conditionLines(claims),
      ...(causes.length > 0 ? ["Likely causes:", ...causes.map((cause) => `  - ${cause}`)] : []),
    ],
    fix: trustFix(code, `${label} ${roleArn}`),
    cause: error,
  });
}

/** A refusal of any other AWS call (verification, chaining, CodeArtifact, ECR). */
export function callRefusal(
  call: string,
  error: unknown,
  what: string,
  fix: string,
  details: string[] = [],
): PipeError {
  return refusedError(`AWS refused ${call} ${what}: ${describeFault(error)}`, { details, fix, cause: error });
}

/** The sts:AssumeRole of AWS_CHAIN_ROLE_ARN, as the run made it. */
export interface ChainAttempt {
  chainRoleArn: string;
  /** Whether AWS_CHAIN_EXTERNAL_ID was sent. */
  externalId: boolean;
  /** The role the step's token assumed, whose credentials made the call. */
  firstRoleArn: string;
  firstSessionArn: string;
}

/** A refusal of the chain's sts:AssumeRole: the statement the chained role's trust policy needs. */
export function chainRefusal(error: unknown, chain: ChainAttempt): PipeError {
  const { chainRoleArn, firstRoleArn } = chain;
  const code = errorCode(error);
  const statement = {
    Effect: "Allow",
    Principal: { AWS: firstRoleArn },
    Action: "sts:AssumeRole",
    ...(chain.externalId
      ? { Condition: { StringEquals: { "sts:ExternalId": `<the value of ${VARIABLES.chainExternalId}>` } } }
      : {}),
  };
  if (code === "MalformedPolicyDocument" || code === "PackedPolicyTooLarge") {
    return callRefusal(
      "sts:AssumeRole",
      error,
      `into ${VARIABLES.chainRoleArn} ${chainRoleArn}`,
      `Fix ${VARIABLES.sessionPolicy} or use fewer ${VARIABLES.sessionPolicyArns}: session policies apply to the chained role.`,
    );
  }
  const causes = [
    `the role ${chainRoleArn} does not exist, or the ARN has a typo (AWS answers AccessDenied for both)`,
    `its trust policy has no statement like the one above: Principal {"AWS": "${firstRoleArn}"} (the first role's ARN), Action sts:AssumeRole`,
    chain.externalId
      ? `its trust policy's sts:ExternalId differs from ${VARIABLES.chainExternalId}`
      : `its trust policy requires sts:ExternalId: set ${VARIABLES.chainExternalId} to the agreed value`,
    `${firstRoleArn}'s own permissions do not allow sts:AssumeRole on ${chainRoleArn} (required when the roles are in different accounts)`,
    "a service control policy or permissions boundary denies sts:AssumeRole",
  ];
  return callRefusal(
    "sts:AssumeRole",
    error,
    `into ${VARIABLES.chainRoleArn} ${chainRoleArn} with the credentials of ${chain.firstSessionArn}`,
    `Let ${chainRoleArn} trust ${firstRoleArn} for sts:AssumeRole (the statement above), and allow ${firstRoleArn} to call sts:AssumeRole on it.`,
    [
      "The chained role's trust policy must have a statement like:",
      ...jsonLines(statement),
      "Likely causes:",
      ...causes.map((cause) => `  - ${cause}`),
    ],
  );
}

/** The partition of a region, for the ARNs a fix names. */
const partitionOf = (region: string) =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";

/** The IAM actions a CodeArtifact login needs, as `template --codeartifact read` grants them. */
export const CODEARTIFACT_ACTIONS = [
  "codeartifact:GetAuthorizationToken",
  "codeartifact:GetRepositoryEndpoint",
  "codeartifact:ReadFromRepository",
  "sts:GetServiceBearerToken",
] as const;

/** What to tell a person whose CodeArtifact call was refused: the permissions, resource by resource. */
export function codeArtifactRefusal(
  call: string,
  error: unknown,
  target: { domain: string; repository: string; owner: string; region: string },
  accountId: string,
): PipeError {
  const code = errorCode(error) ?? "";
  const arn = `arn:${partitionOf(target.region)}:codeartifact:${target.region}:${target.owner}`;
  const what = `for the domain ${target.domain} (owner ${target.owner}, ${target.region}), repository ${target.repository}`;
  const permissions = [
    "The role's permissions must allow:",
    `  codeartifact:GetAuthorizationToken  on ${arn}:domain/${target.domain}`,
    `  codeartifact:GetRepositoryEndpoint  on ${arn}:repository/${target.domain}/${target.repository}`,
    `  codeartifact:ReadFromRepository     on ${arn}:repository/${target.domain}/${target.repository}`,
    '  sts:GetServiceBearerToken           on *, with "Condition": {"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}',
  ];
  if (accountId !== "" && target.owner !== accountId) {
    permissions.push(
      `The domain belongs to account ${target.owner}, not the role's (${accountId}): its domain policy (and the repository's policy) must also allow the role.`,
    );
  }
  if (/NotFound/i.test(code)) {
    return callRefusal(
      call,
      error,
      what,
      `Check CODEARTIFACT_DOMAIN (${target.domain}), CODEARTIFACT_REPOSITORY (${target.repository}) and CODEARTIFACT_DOMAIN_OWNER (${target.owner}) against the CodeArtifact console in ${target.region}: AWS answers not found for a name that does not exist in that account and region.`,
      permissions,
    );
  }
  return callRefusal(
    call,
    error,
    what,
    `Give the role ${CODEARTIFACT_ACTIONS.join(", ")} as listed above (the pipe's \`template --codeartifact read\` command does), then run the step again.`,
    permissions,
  );
}

/** A refusal of ecr:GetAuthorizationToken with the default credentials: the permissions ECR needs. */
export function ecrRefusal(
  call: string,
  error: unknown,
  where: { region: string; accountId: string },
): PipeError {
  const { region } = where;
  const account = where.accountId || "<account>";
  const repositories = `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/<name>`;
  return callRefusal(
    call,
    error,
    `with the default credentials (account ${account}, ${region})`,
    'Allow ecr:GetAuthorizationToken on "Resource": "*" in the role\'s permissions (it cannot be narrowed to a repository), or set ECR_LOGIN: false; then run the step again.',
    [
      "The role's permissions must allow:",
      "  ecr:GetAuthorizationToken on * (the Docker login itself)",
      `and on the repositories (${repositories}):`,
      "  pull: ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability",
      "  push: also ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage",
      "Repositories in other accounts (ECR_REGISTRY_IDS) must also allow the role in their repository policies.",
    ],
  );
}
