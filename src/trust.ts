import { isIPv4, isIPv6 } from "node:net";
import { inputError } from "./errors.js";
import { type Claims, primaryAudience } from "./token.js";

/**
 * The one place that knows how an IAM trust policy admits a Bitbucket step. The `claims` command,
 * the refusal diagnosis and the `template` command all build their conditions here, so what we
 * print when AWS refuses is exactly what the template would have written.
 *
 * IAM can match only two claims of a web-identity token: `aud` and `sub`, under the keys
 * `<provider host/path>:aud` and `<provider host/path>:sub`. Bitbucket's `sub` is
 * `{repoUuid}:{stepUuid}`, or `{repoUuid}:{envUuid}:{stepUuid}` on a deployment step: braces
 * included, and IAM compares them literally. The audience is the exception, without braces.
 */

export const BITBUCKET_ISSUER_PREFIX = "https://api.bitbucket.org/2.0/workspaces/";
const ISSUER_SUFFIX = "/pipelines-config/identity/oidc";

/** The issuer of a workspace's step tokens (and the URL of its IAM OIDC provider). */
export const issuerUrl = (workspace: string): string =>
  `${BITBUCKET_ISSUER_PREFIX}${workspace}${ISSUER_SUFFIX}`;

/** The workspace slug in a Bitbucket issuer URL, or undefined when `issuer` is not one. */
export function workspaceFromIssuer(issuer: string): string | undefined {
  const trimmed = issuer.trim().replace(/\/+$/, "");
  if (!trimmed.startsWith(BITBUCKET_ISSUER_PREFIX) || !trimmed.endsWith(ISSUER_SUFFIX)) return undefined;
  const workspace = trimmed.slice(BITBUCKET_ISSUER_PREFIX.length, trimmed.length - ISSUER_SUFFIX.length);
  return /^[^/\s]+$/.test(workspace) ? workspace : undefined;
}

/**
 * The issuer without its scheme and trailing slash: what IAM calls the provider "URL" in
 * condition keys (`api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:sub`) and
 * in the provider's ARN (`arn:aws:iam::123456789012:oidc-provider/<host/path>`).
 */
export const issuerHostPath = (issuer: string): string =>
  issuer
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/+$/, "");

const UUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/**
 * A Bitbucket UUID in its canonical form, `{lowercase-uuid}`, from a value with or without braces
 * (but not with only one of them); undefined when it is not a UUID.
 */
export function parseUuid(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith("{") !== trimmed.endsWith("}")) return undefined;
  const match = UUID.exec(trimmed);
  return match?.[1] ? `{${match[1].toLowerCase()}}` : undefined;
}

const requireUuid = (value: string): string => {
  const uuid = parseUuid(value);
  if (!uuid) {
    throw inputError(`"${value}" is not a Bitbucket UUID.`, {
      fix: "Give the UUID as shown in Bitbucket (e.g. {1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d}), with or without the braces.",
    });
  }
  return uuid;
};

/** `{uuid}`, as Bitbucket writes it in `sub` and `repositoryUuid`. Throws an input error for a non-UUID. */
export const braced = (uuid: string): string => requireUuid(uuid);

/** `uuid` without braces, as in the audience. Throws an input error for a non-UUID. */
export const unbraced = (uuid: string): string => requireUuid(uuid).slice(1, -1);

/** Bitbucket's default audience for a workspace's step tokens. */
export const workspaceAudience = (workspaceUuid: string): string =>
  `ari:cloud:bitbucket::workspace/${unbraced(workspaceUuid)}`;

/**
 * An IPv4 or IPv6 CIDR in a normal form (a bare address becomes /32 or /128); undefined when the
 * value is not one. Host bits are kept as given: IAM accepts them.
 */
export function parseCidr(value: string): string | undefined {
  const trimmed = value.trim();
  const slash = trimmed.indexOf("/");
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) return undefined;
  const max = v4 ? 32 : 128;
  if (prefixText === undefined) return `${v4 ? address : address.toLowerCase()}/${max}`;
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return `${v4 ? address : address.toLowerCase()}/${prefix}`;
}

/** One value as a string, several as an array: the way IAM policies are usually written. */
export type ConditionValue = string | string[];

export interface TrustCondition {
  StringEquals: Record<string, ConditionValue>;
  StringLike: Record<string, ConditionValue>;
  IpAddress?: { "aws:SourceIp": ConditionValue };
}

export interface TrustScope {
  /** The token issuer, e.g. `issuerUrl("acme")`. */
  issuer: string;
  /** The audience(s) the provider and the condition accept, e.g. `workspaceAudience(uuid)`. */
  audience: string | readonly string[];
  /** Repositories whose steps may assume the role: at least one. */
  repositoryUuids: string[];
  /** When given, only deployment steps in these environments (of those repositories). */
  environmentUuids?: string[];
  /** When given, only requests from these addresses (`aws:SourceIp`). */
  sourceCidrs?: string[];
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];
const oneOrMany = (values: readonly string[]): ConditionValue =>
  values.length === 1 ? (values[0] ?? "") : [...values];

function buildCondition(
  issuer: string,
  audience: string | readonly string[],
  subPatterns: readonly string[],
  cidrs: readonly string[],
): TrustCondition {
  const hostPath = issuerHostPath(issuer);
  const condition: TrustCondition = {
    StringEquals: {
      [`${hostPath}:aud`]: typeof audience === "string" ? audience : oneOrMany(unique(audience)),
    },
    StringLike: { [`${hostPath}:sub`]: oneOrMany(unique(subPatterns)) },
  };
  if (cidrs.length > 0) condition.IpAddress = { "aws:SourceIp": oneOrMany(unique(cidrs)) };
  return condition;
}

/**
 * The condition that admits the steps of these repositories (and, with environments, only their
 * deployment steps in those environments), carrying this audience, from these addresses.
 * UUIDs may come with or without braces; the patterns always carry them, as `sub` does.
 */
export function trustCondition(scope: TrustScope): TrustCondition {
  if (scope.repositoryUuids.length === 0) {
    throw inputError("A trust condition needs at least one repository UUID.", {
      fix: "Name the repositories whose steps may assume the role.",
    });
  }
  const repos = unique(scope.repositoryUuids.map(braced));
  const envs = unique((scope.environmentUuids ?? []).map(braced));
  const patterns =
    envs.length === 0
      ? repos.map((repo) => `${repo}:*`)
      : repos.flatMap((repo) => envs.map((env) => `${repo}:${env}:*`));
  const cidrs = (scope.sourceCidrs ?? []).map((value) => {
    const cidr = parseCidr(value);
    if (!cidr) {
      throw inputError(`"${value}" is not an IPv4 or IPv6 CIDR.`, {
        fix: "Give addresses like 192.0.2.0/24.",
      });
    }
    return cidr;
  });
  return buildCondition(scope.issuer, scope.audience, patterns, cidrs);
}

/**
 * The condition that admits exactly this step's repository and, on a deployment step, its
 * environment: any later step of the same kind, not only this one run. Never throws: it is also
 * what a refusal diagnosis prints, whatever the token looks like. `sub` is what IAM compares, so
 * it decides; the UUID claims are only a fallback for a `sub` of an unknown shape.
 */
export function conditionForClaims(claims: Claims): TrustCondition {
  const parts = claims.sub.split(":");
  let pattern: string;
  if (parts.length === 2 || parts.length === 3) {
    // {repo}:{step} -> {repo}:*   and   {repo}:{env}:{step} -> {repo}:{env}:*
    pattern = `${parts.slice(0, -1).join(":")}:*`;
  } else {
    const repo = claims.repositoryUuid
      ? (parseUuid(claims.repositoryUuid) ?? claims.repositoryUuid)
      : undefined;
    const env = claims.deploymentEnvironmentUuid
      ? (parseUuid(claims.deploymentEnvironmentUuid) ?? claims.deploymentEnvironmentUuid)
      : undefined;
    pattern = repo ? (env ? `${repo}:${env}:*` : `${repo}:*`) : claims.sub;
  }
  return buildCondition(claims.iss, primaryAudience(claims), [pattern], []);
}

export interface TrustPolicyDocument {
  Version: "2012-10-17";
  Statement: [
    {
      Effect: "Allow";
      Principal: { Federated: string | object };
      Action: "sts:AssumeRoleWithWebIdentity";
      Condition: TrustCondition;
    },
  ];
}

/**
 * The role's whole trust policy. `providerArn` is the provider's ARN, or a CloudFormation
 * expression for it (`{ Ref: "BitbucketOidcProvider" }`).
 */
export const trustPolicyDocument = (
  providerArn: string | object,
  condition: TrustCondition,
): TrustPolicyDocument => ({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: condition,
    },
  ],
});

/** IAM's limit on a role trust policy, in characters without whitespace: the default quota... */
export const TRUST_POLICY_DEFAULT_LIMIT = 2048;
/** ...and the most a quota increase gives. */
export const TRUST_POLICY_MAX_LIMIT = 4096;

/**
 * A policy's length as IAM counts it against its quotas: white space is not counted. Compact JSON
 * has none outside strings; none of our strings contain any, but count them out anyway.
 */
export const policyLength = (policy: unknown): number => JSON.stringify(policy).replace(/\s/g, "").length;
