import { type Problems, parseAccountIds, parseInteger, read, shown, splitList } from "./read.js";
import { VARIABLES } from "./variables.js";

/** The roles a run assumes, and what goes with them: session name and length, policies, accounts, chain. */

export type CredentialsMode = "static" | "web-identity";

export interface Profile {
  name: string;
  roleArn: string;
}

export interface Roles {
  sessionName: string;
  durationSeconds: number;
  sessionPolicy: string | undefined;
  sessionPolicyArns: string[];
  allowedAccountIds: string[];
  profiles: Profile[];
  chainRoleArn: string | undefined;
  chainExternalId: string | undefined;
  mode: CredentialsMode;
}

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** A profile name the pipe itself writes in aws-config for the web-identity source of a chain. */
export const RESERVED_PROFILE = "bitbucket-oidc";
const SESSION_POLICY_MAX = 2048;
const MAX_POLICY_ARNS = 10;

function checkRoleArn(name: string, value: string, problems: Problems): void {
  if (!ROLE_ARN.test(value)) {
    problems.add(
      `${name} must be an IAM role ARN like arn:aws:iam::123456789012:role/deploy, got ${shown(value)}.`,
    );
  }
}

/** AWS_ROLE_ARN, or its other name AWS_OIDC_ROLE_ARN: the same role if both are set. */
export function parseRoleArn(env: NodeJS.ProcessEnv, problems: Problems): string | undefined {
  const mainArn = read(env, VARIABLES.roleArn);
  const aliasArn = read(env, VARIABLES.oidcRoleArn);
  if (mainArn !== undefined && aliasArn !== undefined && mainArn !== aliasArn) {
    problems.add(
      `${VARIABLES.roleArn} and ${VARIABLES.oidcRoleArn} are both set and differ: keep one (they mean the same role).`,
    );
  }
  const roleArn = mainArn ?? aliasArn;
  if (roleArn === undefined) {
    problems.add(`${VARIABLES.roleArn} is required: the ARN of the IAM role this step assumes.`);
  } else {
    checkRoleArn(mainArn !== undefined ? VARIABLES.roleArn : VARIABLES.oidcRoleArn, roleArn, problems);
  }
  return roleArn;
}

function parseSessionPolicy(env: NodeJS.ProcessEnv, problems: Problems): string | undefined {
  const name = VARIABLES.sessionPolicy;
  const value = read(env, name);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    // Node's message quotes the input, which may be long or secret: keep only where it broke.
    const where = /position \d+/.exec((error as Error).message)?.[0];
    problems.add(`${name} is not valid JSON${where ? ` (error at ${where})` : ""}.`);
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.add(`${name} must be a JSON policy document (an object with "Version" and "Statement").`);
    return undefined;
  }
  const statement = (parsed as Record<string, unknown>).Statement;
  if (statement === undefined || (typeof statement !== "object" && !Array.isArray(statement))) {
    problems.add(`${name} must have a "Statement" (an object or a list of them).`);
    return undefined;
  }
  // AWS counts the policy without insignificant white space.
  const compact = JSON.stringify(parsed);
  if (compact.length > SESSION_POLICY_MAX) {
    problems.add(
      `${name} is ${compact.length} characters; AWS allows ${SESSION_POLICY_MAX} for a session policy. Shorten it or use AWS_SESSION_POLICY_ARNS.`,
    );
    return undefined;
  }
  return compact;
}

function parsePolicyArns(env: NodeJS.ProcessEnv, problems: Problems): string[] {
  const sessionPolicyArns = splitList(read(env, VARIABLES.sessionPolicyArns) ?? "");
  const badPolicyArns = sessionPolicyArns.filter((arn) => !POLICY_ARN.test(arn));
  if (badPolicyArns.length > 0) {
    problems.add(
      `${VARIABLES.sessionPolicyArns} must be IAM policy ARNs (arn:aws:iam::aws:policy/ReadOnlyAccess); not one: ${badPolicyArns.map(shown).join(", ")}.`,
    );
  }
  if (sessionPolicyArns.length > MAX_POLICY_ARNS) {
    problems.add(
      `${VARIABLES.sessionPolicyArns} lists ${sessionPolicyArns.length} policies; AWS allows ${MAX_POLICY_ARNS}.`,
    );
  }
  return sessionPolicyArns;
}

function parseProfiles(env: NodeJS.ProcessEnv, problems: Problems): Profile[] {
  const name = VARIABLES.profiles;
  const value = read(env, name);
  if (value === undefined) return [];
  const profiles: Profile[] = [];
  for (const pair of splitList(value)) {
    const eq = pair.indexOf("=");
    const profileName = eq > 0 ? pair.slice(0, eq) : "";
    const roleArn = eq > 0 ? pair.slice(eq + 1) : "";
    if (!PROFILE_NAME.test(profileName) || !ROLE_ARN.test(roleArn)) {
      problems.add(
        `${name} must be name=roleArn pairs (e.g. dev=arn:aws:iam::111111111111:role/deploy); not one: ${shown(pair)}.`,
      );
      continue;
    }
    if (profileName === "default" || profileName === RESERVED_PROFILE) {
      problems.add(`${name}: the profile name ${shown(profileName)} is reserved; choose another.`);
      continue;
    }
    if (profiles.some((p) => p.name === profileName)) {
      problems.add(`${name} names the profile ${shown(profileName)} twice.`);
      continue;
    }
    profiles.push({ name: profileName, roleArn });
  }
  return profiles;
}

/** `bitbucket-<repo slug>-<build number>`, made valid for STS and cut to its 64 characters. */
export function defaultSessionName(env: NodeJS.ProcessEnv): string {
  const slug = read(env, VARIABLES.repoSlug) ?? "pipelines";
  const build = read(env, VARIABLES.buildNumber);
  const raw = build === undefined ? `bitbucket-${slug}` : `bitbucket-${slug}-${build}`;
  const clean = raw.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return clean.length >= 2 ? clean : "bitbucket-pipelines";
}

function parseMode(env: NodeJS.ProcessEnv, problems: Problems): CredentialsMode {
  const modeValue = read(env, VARIABLES.mode)?.toLowerCase() ?? "static";
  if (modeValue === "static" || modeValue === "web-identity") return modeValue;
  problems.add(`${VARIABLES.mode} must be static or web-identity, got ${shown(modeValue)}.`);
  return "static";
}

/** Every variable about the roles but the main role's ARN (parseRoleArn). */
export function parseRoles(env: NodeJS.ProcessEnv, problems: Problems): Roles {
  const sessionNameValue = read(env, VARIABLES.sessionName);
  if (sessionNameValue !== undefined && !SESSION_NAME.test(sessionNameValue)) {
    problems.add(
      `${VARIABLES.sessionName} must be 2-64 of A-Z a-z 0-9 _ + = , . @ -, got ${shown(sessionNameValue)}.`,
    );
  }
  const durationSeconds = parseInteger(
    env,
    "duration",
    (n) => n >= 900 && n <= 43200,
    "from 900 to 43200",
    problems,
  );

  const sessionPolicy = parseSessionPolicy(env, problems);
  const sessionPolicyArns = parsePolicyArns(env, problems);
  const allowedAccountIds = parseAccountIds(env, VARIABLES.allowedAccounts, problems);
  const profiles = parseProfiles(env, problems);
  const chainRoleArn = read(env, VARIABLES.chainRoleArn);
  if (chainRoleArn !== undefined) checkRoleArn(VARIABLES.chainRoleArn, chainRoleArn, problems);
  const chainExternalId = read(env, VARIABLES.chainExternalId);
  if (chainExternalId !== undefined) {
    if (chainRoleArn === undefined) {
      problems.add(`${VARIABLES.chainExternalId} is set but ${VARIABLES.chainRoleArn} is not.`);
    }
    if (!EXTERNAL_ID.test(chainExternalId)) {
      problems.add(`${VARIABLES.chainExternalId} must be 2-1224 of A-Z a-z 0-9 _ + = , . @ : / -.`);
    }
  }

  const mode = parseMode(env, problems);
  if (mode === "web-identity" && (sessionPolicy !== undefined || sessionPolicyArns.length > 0)) {
    problems.add(
      `${VARIABLES.mode} web-identity cannot carry AWS_SESSION_POLICY or AWS_SESSION_POLICY_ARNS: the SDKs that assume the role later send no session policy. Use static mode, or put the limits in the role's own policy.`,
    );
  }

  return {
    sessionName: sessionNameValue ?? defaultSessionName(env),
    durationSeconds,
    sessionPolicy,
    sessionPolicyArns,
    allowedAccountIds,
    profiles,
    chainRoleArn,
    chainExternalId,
    mode,
  };
}

/** The 12-digit account in an IAM or STS ARN. */
export const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]+::(\d{12}):/.exec(arn)?.[1];

/** Every role ARN the run will touch, for the allowed-accounts check before any request. */
export const roleArnsOf = (
  roles: { roleArn: string } & Pick<Roles, "profiles" | "chainRoleArn">,
): Array<{ variable: string; arn: string }> => [
  { variable: VARIABLES.roleArn, arn: roles.roleArn },
  ...roles.profiles.map((p) => ({ variable: `${VARIABLES.profiles} (${p.name})`, arn: p.roleArn })),
  ...(roles.chainRoleArn === undefined
    ? []
    : [{ variable: VARIABLES.chainRoleArn, arn: roles.chainRoleArn }]),
];
