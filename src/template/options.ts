import { inputError } from "../errors.js";
import {
  issuerHostPath,
  issuerUrl,
  parseCidr,
  parseUuid,
  workspaceAudience,
  workspaceFromIssuer,
} from "../trust.js";
import { type FlagName, parseFlags } from "./flags.js";
import { AUDIENCE_PREFIX, fromToken, readIpRanges } from "./sources.js";

export const DEFAULT_ROLE_NAME = "bitbucket-pipelines-deploy";
export const DEFAULT_CDK_QUALIFIER = "hnb659fds";

export type CdkAccess = "full" | "bootstrap-roles";
export type CodeArtifactAccess = "none" | "read" | "publish";
export type EcrAccess = "none" | "pull" | "push";

/** Everything the template depends on, validated. */
export interface TemplateOptions {
  workspace: string;
  /** What the provider accepts and the role requires as `aud`: the workspace's, or `--audience`. */
  audiences: string[];
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
  ecr: EcrAccess;
  format: "yaml" | "json";
  /** What the user should know about how the flags were read (printed as INFO lines). */
  notes: string[];
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const CDK_QUALIFIER = /^[a-z0-9]{1,10}$/;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;
/** IAM takes 1-255 characters as a client id; a comma is more likely two audiences run together. */
const AUDIENCE = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;

/** Where Bitbucket shows the UUIDs: the page lists the repository's and, in its audience, the workspace's. */
export const UUID_HINT = "Repository settings → OpenID Connect in Bitbucket";

function oneOf<T extends string>(
  values: Map<FlagName, string[]>,
  name: FlagName,
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

export const flagProblems = (problems: readonly string[]) =>
  inputError(
    problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems with the template flags`,
    {
      details: problems.length === 1 ? [] : problems.map((p) => `- ${p}`),
      fix:
        problems.length === 1
          ? "Fix that flag and run `template` again (`template --help` lists every flag)."
          : "Fix the flags listed above and run `template` again (`template --help` lists every flag).",
    },
  );

/** Turns the flags (and, with `--from-token`, the step token) into options; throws every problem at once. */
export function parseTemplateOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string,
): TemplateOptions {
  const { values, given, problems } = parseFlags(argv);
  const first = (name: FlagName) => values.get(name)?.[0];
  const notes: string[] = [];

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
    // The audience as Bitbucket shows it is as good as the bare UUID.
    const bare = workspaceUuidRaw.startsWith(AUDIENCE_PREFIX)
      ? workspaceUuidRaw.slice(AUDIENCE_PREFIX.length)
      : workspaceUuidRaw;
    workspaceUuid = parseUuid(bare);
    if (!workspaceUuid) problems.push(`--workspace-uuid "${workspaceUuidRaw}" is not a UUID.`);
  }
  const uuids = (name: FlagName): string[] =>
    (values.get(name) ?? []).flatMap((raw) => {
      const uuid = parseUuid(raw);
      if (!uuid) problems.push(`--${name} "${raw}" is not a UUID.`);
      return uuid ? [uuid] : [];
    });
  const repositoryUuids = uuids("repository-uuid");
  const environmentUuids = uuids("environment-uuid");
  const flagAudiences = (values.get("audience") ?? []).filter((aud) => {
    if (AUDIENCE.test(aud)) return true;
    problems.push(
      `--audience "${aud}" is not an audience IAM can take: 1-255 printable characters, no spaces or commas (repeat --audience for each one).`,
    );
    return false;
  });

  const sourceCidrs: string[] = [];
  for (const raw of values.get("source-ip") ?? []) {
    const cidr = parseCidr(raw);
    if (cidr) sourceCidrs.push(cidr);
    else
      problems.push(`--source-ip "${raw}" is not an IPv4 or IPv6 CIDR (e.g. 192.0.2.0/24 or 2001:db8::/32).`);
  }

  let tokenAudiences: string[] = [];
  // A token that cannot be read is one problem, not also every flag it would have filled in.
  let tokenFailed = false;
  if (first("from-token") === "true") {
    const before = problems.length;
    const token = fromToken(env, problems);
    tokenFailed = problems.length > before;
    tokenAudiences = token.customAudiences;
    if (token.workspace !== undefined && workspace === undefined) workspace = token.workspace;
    else if (token.workspace !== undefined && workspace !== token.workspace) {
      problems.push(
        `--workspace "${workspace}" differs from the token's workspace "${token.workspace}": drop one.`,
      );
    }
    if (token.workspaceUuid !== undefined && workspaceUuid === undefined) workspaceUuid = token.workspaceUuid;
    else if (token.workspaceUuid !== undefined && workspaceUuid !== token.workspaceUuid) {
      problems.push(
        `--workspace-uuid ${workspaceUuid} differs from the token's ${token.workspaceUuid}: drop one.`,
      );
    }
    if (token.repositoryUuid !== undefined && !repositoryUuids.includes(token.repositoryUuid)) {
      repositoryUuids.unshift(token.repositoryUuid);
    }
    if (token.environmentUuid !== undefined) {
      if (!environmentUuids.includes(token.environmentUuid)) environmentUuids.unshift(token.environmentUuid);
      notes.push(
        `The token is from a deployment step (environment ${token.environmentUuid}): the role admits only deployment steps in ${environmentUuids.length === 1 ? "that environment" : "these environments"}, as \`claims\` suggests. For every step of the repository, run template without --from-token.`,
      );
    }
  }

  const ipRangesFile = first("ip-ranges");
  if (ipRangesFile !== undefined) sourceCidrs.push(...readIpRanges(ipRangesFile, problems, readFile));

  const audiences = flagAudiences.length > 0 ? flagAudiences : tokenAudiences;
  if (workspace === undefined && !given.has("workspace") && !tokenFailed) {
    problems.push("--workspace is required (or --from-token in a step with `oidc: true`).");
  }
  if (audiences.length === 0 && workspaceUuid === undefined && !given.has("workspace-uuid") && !tokenFailed) {
    problems.push(
      `--workspace-uuid is required (${UUID_HINT} shows it, in the Audience ${AUDIENCE_PREFIX}<UUID>; or --from-token).`,
    );
  }
  if (repositoryUuids.length === 0 && !given.has("repository-uuid") && !tokenFailed) {
    problems.push(`--repository-uuid is required, once per repository (${UUID_HINT}, or --from-token).`);
  }
  if (flagAudiences.length > 0 && workspaceUuidRaw !== undefined) {
    notes.push(
      `--audience replaces the workspace's audience: steps without \`oidc: audiences:\` are not admitted (add --audience ${AUDIENCE_PREFIX}<workspace UUID> to admit them too).`,
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
  const ecr = oneOf(values, "ecr", ["none", "pull", "push"] as const, "none", problems);
  const format = oneOf(values, "format", ["yaml", "json"] as const, "yaml", problems);

  if (problems.length > 0 || workspace === undefined) throw flagProblems(problems);
  const options: TemplateOptions = {
    workspace,
    audiences: audiences.length > 0 ? [...new Set(audiences)] : [workspaceAudience(workspaceUuid ?? "")],
    repositoryUuids: [...new Set(repositoryUuids)],
    environmentUuids: [...new Set(environmentUuids)],
    sourceCidrs: [...new Set(sourceCidrs)],
    roleName,
    maxSessionDuration,
    cdkAccess,
    readOnly,
    codeartifact,
    ecr,
    format,
    notes,
  };
  if (existingProviderArn !== undefined) options.existingProviderArn = existingProviderArn;
  if (ipRangesFile !== undefined) options.ipRangesFile = ipRangesFile;
  if (cdkQualifier !== undefined) options.cdkQualifier = cdkQualifier;
  return options;
}
