import path from "node:path";
import { endpointUrlProblem } from "./endpointUrl.js";
import { InputErrors } from "./errors.js";
import { escapeControl, firstControl, hasControl, printableJson } from "./printable.js";
import { boundedText, withoutUserinfo } from "./redact.js";

/** Every variable the pipe reads, by name: the contract's names, in one place. */
export const VARIABLES = {
  roleArn: "AWS_ROLE_ARN",
  oidcRoleArn: "AWS_OIDC_ROLE_ARN",
  region: "AWS_REGION",
  defaultRegion: "AWS_DEFAULT_REGION",
  sessionName: "AWS_ROLE_SESSION_NAME",
  duration: "AWS_ROLE_DURATION_SECONDS",
  sessionPolicy: "AWS_SESSION_POLICY",
  sessionPolicyArns: "AWS_SESSION_POLICY_ARNS",
  allowedAccounts: "AWS_ALLOWED_ACCOUNT_IDS",
  profiles: "AWS_PROFILES",
  chainRoleArn: "AWS_CHAIN_ROLE_ARN",
  chainExternalId: "AWS_CHAIN_EXTERNAL_ID",
  mode: "CREDENTIALS_MODE",
  verify: "VERIFY",
  maskAccountId: "MASK_ACCOUNT_ID",
  outputDir: "OUTPUT_DIR",
  caDomain: "CODEARTIFACT_DOMAIN",
  caRepository: "CODEARTIFACT_REPOSITORY",
  caDomainOwner: "CODEARTIFACT_DOMAIN_OWNER",
  caTools: "CODEARTIFACT_TOOLS",
  caNpmScope: "CODEARTIFACT_NPM_SCOPE",
  caDuration: "CODEARTIFACT_DURATION_SECONDS",
  ecrLogin: "ECR_LOGIN",
  ecrRegistryIds: "ECR_REGISTRY_IDS",
  debug: "DEBUG",
  maxAttempts: "AWS_MAX_ATTEMPTS",
  retryTimeScale: "RETRY_TIME_SCALE",
  endpoint: "AWS_ENDPOINT_URL",
  endpointSts: "AWS_ENDPOINT_URL_STS",
  endpointCodeartifact: "AWS_ENDPOINT_URL_CODEARTIFACT",
  endpointEcr: "AWS_ENDPOINT_URL_ECR",
  useFipsEndpoint: "AWS_USE_FIPS_ENDPOINT",
  useDualstackEndpoint: "AWS_USE_DUALSTACK_ENDPOINT",
  cloneDir: "BITBUCKET_CLONE_DIR",
  repoSlug: "BITBUCKET_REPO_SLUG",
  buildNumber: "BITBUCKET_BUILD_NUMBER",
} as const;

export const CODEARTIFACT_TOOLS = [
  "npm",
  "pnpm",
  "yarn",
  "pip",
  "uv",
  "poetry",
  "twine",
  "maven",
  "gradle",
  "nuget",
] as const;
export type CodeArtifactTool = (typeof CODEARTIFACT_TOOLS)[number];

export type CredentialsMode = "static" | "web-identity";

export interface Profile {
  name: string;
  roleArn: string;
}

export interface CodeArtifactConfig {
  domain: string;
  repository: string;
  domainOwner: string | undefined;
  tools: CodeArtifactTool[];
  npmScope: string | undefined;
  durationSeconds: number;
}

export interface EcrConfig {
  registryIds: string[];
}

/** AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT, passed to every SDK client. */
export interface EndpointOptions {
  fips: boolean;
  dualStack: boolean;
}

export interface Endpoints {
  sts: string | undefined;
  codeartifact: string | undefined;
  ecr: string | undefined;
}

export interface Config {
  roleArn: string;
  region: string;
  sessionName: string;
  durationSeconds: number;
  sessionPolicy: string | undefined;
  sessionPolicyArns: string[];
  allowedAccountIds: string[];
  profiles: Profile[];
  chainRoleArn: string | undefined;
  chainExternalId: string | undefined;
  mode: CredentialsMode;
  verify: boolean;
  maskAccountId: boolean;
  /** Absolute path. */
  outputDir: string;
  /** As the user wrote it, relative to the working directory: used in messages. */
  outputDirDisplay: string;
  cloneDir: string | undefined;
  codeartifact: CodeArtifactConfig | undefined;
  ecr: EcrConfig | undefined;
  debug: boolean;
  maxAttempts: number;
  retryTimeScale: number;
  endpoints: Endpoints;
  /** AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT. */
  endpointOptions: EndpointOptions;
}

export const DEFAULT_OUTPUT_DIR = ".aws-oidc";
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
/** Region names as the SDK's partitions form them (us-east-1, us-gov-west-1, eusc-de-east-1, …): the SDK resolves the endpoint. */
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)*-\d{1,3}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const CA_DOMAIN = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const CA_REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$/;
const NPM_SCOPE = /^@[a-z0-9][a-z0-9._~-]{0,213}$/;
/** A profile name the pipe itself writes in aws-config for the web-identity source of a chain. */
export const RESERVED_PROFILE = "bitbucket-oidc";
const SESSION_POLICY_MAX = 2048;
/** Linux's PATH_MAX is 4096 with the clone dir's own path in it; NAME_MAX is 255 on every common file system. */
const OUTPUT_DIR_MAX = 1024;
const PATH_COMPONENT_MAX = 255;
/** Values that may span lines: there, tab, CR and LF are only blanks between items. */
const MULTI_LINE = new Set<string>([
  VARIABLES.profiles,
  VARIABLES.sessionPolicy,
  VARIABLES.sessionPolicyArns,
  VARIABLES.allowedAccounts,
  VARIABLES.caTools,
  VARIABLES.ecrRegistryIds,
]);
/** Read by the transport, not the parser: held to the same rule. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];
const BLANKS = /[\t\r\n]/g;
const MAX_POLICY_ARNS = 10;

/** Shows a bad value without echoing it whole: it may be a secret pasted into the wrong variable. */
const shown = (value: string): string => printableJson(value.length > 40 ? boundedText(value, 20) : value);

/**
 * Reads one variable set. Empty and whitespace-only values count as unset: Bitbucket passes
 * `$UNDEFINED_VARIABLE` through as an empty string.
 */
const read = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  return value.trim();
};

const splitList = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== "");

/**
 * A control character in a variable is never meant (a stray paste, or an attempt to forge log
 * lines or file content): refused by name, with where it is, never the value itself.
 */
function checkControlCharacters(env: NodeJS.ProcessEnv, problems: Problems): void {
  for (const name of [...Object.values(VARIABLES), ...PROXY_VARIABLES]) {
    const value = env[name];
    if (value === undefined) continue;
    const checked = MULTI_LINE.has(name) ? value.replace(BLANKS, " ") : value;
    const at = firstControl(checked);
    if (at < 0) continue;
    const char = escapeControl(checked.charAt(at));
    problems.add(
      `${name} contains a control character (${char} at position ${at + 1})${MULTI_LINE.has(name) ? "" : "; it must be on one line"}: set it again without it.`,
    );
  }
}

/** Why the SDKs' INI parser could not read `value` back as written (undefined: it can). */
export function iniValueProblem(value: string): string | undefined {
  if (hasControl(value)) return "a line break or another control character";
  if (value !== value.trim()) return "leading or trailing blanks";
  if (/\s[;#]/.test(value)) return "a blank followed by ; or #, which starts a comment";
  return undefined;
}

/** Collects every problem instead of stopping at the first, so one run shows them all. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    // Messages quote values the user set; whatever they hold, a problem stays one printable line.
    this.list.push(escapeControl(message));
  }
}

function parseBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: Problems): boolean {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  problems.add(`${name} must be true or false, got ${shown(value)}.`);
  return fallback;
}

function parseInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  accept: (n: number) => boolean,
  range: string,
  problems: Problems,
): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !accept(Number(value))) {
    problems.add(`${name} must be a whole number ${range}, got ${shown(value)}.`);
    return fallback;
  }
  return Number(value);
}

function parseAccountIds(env: NodeJS.ProcessEnv, name: string, problems: Problems): string[] {
  const value = read(env, name);
  if (value === undefined) return [];
  const ids = splitList(value);
  const bad = ids.filter((id) => !ACCOUNT_ID.test(id));
  if (bad.length > 0) {
    problems.add(
      `${name} must be comma-separated 12-digit AWS account ids; not one: ${bad.map(shown).join(", ")}.`,
    );
  }
  return [...new Set(ids.filter((id) => ACCOUNT_ID.test(id)))];
}

function checkRoleArn(name: string, value: string, problems: Problems): void {
  if (!ROLE_ARN.test(value)) {
    problems.add(
      `${name} must be an IAM role ARN like arn:aws:iam::123456789012:role/deploy, got ${shown(value)}.`,
    );
  }
}

function parseEndpoint(env: NodeJS.ProcessEnv, name: string, problems: Problems): string | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const problem = endpointUrlProblem(value);
  if (problem !== undefined) {
    problems.add(`${name} ${problem}, got ${shown(withoutUserinfo(value) ?? "")}.`);
    return undefined;
  }
  return value;
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

function parseCodeArtifact(env: NodeJS.ProcessEnv, problems: Problems): CodeArtifactConfig | undefined {
  const domain = read(env, VARIABLES.caDomain);
  const repository = read(env, VARIABLES.caRepository);
  const owner = read(env, VARIABLES.caDomainOwner);
  const toolsValue = read(env, VARIABLES.caTools);
  const scope = read(env, VARIABLES.caNpmScope);
  const durationSet = read(env, VARIABLES.caDuration) !== undefined;
  if (domain === undefined && repository === undefined) {
    const stray = [
      [VARIABLES.caDomainOwner, owner],
      [VARIABLES.caTools, toolsValue],
      [VARIABLES.caNpmScope, scope],
      [VARIABLES.caDuration, durationSet ? "set" : undefined],
    ].filter(([, v]) => v !== undefined);
    for (const [name] of stray) {
      problems.add(
        `${name} is set but CodeArtifact is off: set CODEARTIFACT_DOMAIN and CODEARTIFACT_REPOSITORY too.`,
      );
    }
    return undefined;
  }
  if (domain === undefined) problems.add(`${VARIABLES.caDomain} is required with ${VARIABLES.caRepository}.`);
  if (repository === undefined)
    problems.add(`${VARIABLES.caRepository} is required with ${VARIABLES.caDomain}.`);
  if (domain !== undefined && !CA_DOMAIN.test(domain)) {
    problems.add(
      `${VARIABLES.caDomain} must be a CodeArtifact domain name (2-50 of a-z, 0-9 and -), got ${shown(domain)}.`,
    );
  }
  if (repository !== undefined && !CA_REPOSITORY.test(repository)) {
    problems.add(
      `${VARIABLES.caRepository} must be a CodeArtifact repository name (2-100 of A-Z, a-z, 0-9, ., _ and -), got ${shown(repository)}.`,
    );
  }
  if (owner !== undefined && !ACCOUNT_ID.test(owner)) {
    problems.add(`${VARIABLES.caDomainOwner} must be a 12-digit AWS account id, got ${shown(owner)}.`);
  }
  const tools: CodeArtifactTool[] = [];
  for (const tool of toolsValue === undefined ? ["npm"] : splitList(toolsValue.toLowerCase())) {
    if (!(CODEARTIFACT_TOOLS as readonly string[]).includes(tool)) {
      problems.add(
        `${VARIABLES.caTools}: unknown tool ${shown(tool)}; use any of ${CODEARTIFACT_TOOLS.join(", ")}.`,
      );
    } else if (!tools.includes(tool as CodeArtifactTool)) {
      tools.push(tool as CodeArtifactTool);
    }
  }
  if (toolsValue !== undefined && splitList(toolsValue).length === 0) {
    problems.add(`${VARIABLES.caTools} names no tool; use any of ${CODEARTIFACT_TOOLS.join(", ")}.`);
  }
  if (scope !== undefined && !NPM_SCOPE.test(scope)) {
    problems.add(
      `${VARIABLES.caNpmScope} must be an npm scope like @acme (lower case), got ${shown(scope)}.`,
    );
  }
  if (scope !== undefined && !tools.some((t) => t === "npm" || t === "pnpm" || t === "yarn")) {
    problems.add(`${VARIABLES.caNpmScope} is set but ${VARIABLES.caTools} has no npm, pnpm or yarn.`);
  }
  const durationSeconds = parseInteger(
    env,
    VARIABLES.caDuration,
    0,
    (n) => n === 0 || (n >= 900 && n <= 43200),
    "0 (as long as the role session) or from 900 to 43200",
    problems,
  );
  return {
    domain: domain ?? "",
    repository: repository ?? "",
    domainOwner: owner,
    tools,
    npmScope: scope,
    durationSeconds,
  };
}

function resolveOutputDir(
  env: NodeJS.ProcessEnv,
  cwd: string,
  problems: Problems,
): { outputDir: string; display: string } {
  const display = read(env, VARIABLES.outputDir) ?? DEFAULT_OUTPUT_DIR;
  if (hasControl(display)) {
    problems.add(`${VARIABLES.outputDir} must be a folder path on one line, got ${shown(display)}.`);
  }
  const longest = Math.max(...display.split("/").map((part) => part.length));
  if (display.length > OUTPUT_DIR_MAX || longest > PATH_COMPONENT_MAX) {
    // Never echoed: the path is long by definition, and may be anything.
    problems.add(
      `${VARIABLES.outputDir} is ${display.length} characters long${longest > PATH_COMPONENT_MAX ? ` with a folder name of ${longest}` : ""}; it may have at most ${OUTPUT_DIR_MAX}, and at most ${PATH_COMPONENT_MAX} per folder name.`,
    );
    return { outputDir: path.resolve(cwd, DEFAULT_OUTPUT_DIR), display: DEFAULT_OUTPUT_DIR };
  }
  const outputDir = path.resolve(cwd, display);
  const cloneDir = read(env, VARIABLES.cloneDir);
  if (cloneDir !== undefined) {
    const relative = path.relative(path.resolve(cloneDir), outputDir);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
      problems.add(
        `${VARIABLES.outputDir} (${display}) must be a folder inside BITBUCKET_CLONE_DIR (${cloneDir}), the only folder the pipe and the build container share.`,
      );
    }
  }
  return { outputDir, display };
}

/** Only the output folder: what cleanup after an early failure needs, even when other variables are bad. */
export function outputDirFrom(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const problems = new Problems();
  const { outputDir } = resolveOutputDir(env, cwd, problems);
  return problems.list.length === 0 ? outputDir : undefined;
}

/** Every variable, checked at once; throws InputErrors listing every problem found. */
export function parseConfig(env: NodeJS.ProcessEnv, cwd: string): Config {
  const problems = new Problems();
  checkControlCharacters(env, problems);

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

  const regionName = read(env, VARIABLES.region) !== undefined ? VARIABLES.region : VARIABLES.defaultRegion;
  const region = read(env, regionName);
  if (region === undefined) {
    problems.add(`${VARIABLES.region} is required (or ${VARIABLES.defaultRegion}), e.g. us-east-1.`);
  } else if (!REGION.test(region)) {
    problems.add(`${regionName} must be an AWS region such as us-east-1, got ${shown(region)}.`);
  }

  const sessionNameValue = read(env, VARIABLES.sessionName);
  if (sessionNameValue !== undefined && !SESSION_NAME.test(sessionNameValue)) {
    problems.add(
      `${VARIABLES.sessionName} must be 2-64 of A-Z a-z 0-9 _ + = , . @ -, got ${shown(sessionNameValue)}.`,
    );
  }
  const durationSeconds = parseInteger(
    env,
    VARIABLES.duration,
    3600,
    (n) => n >= 900 && n <= 43200,
    "from 900 to 43200",
    problems,
  );

  const sessionPolicy = parseSessionPolicy(env, problems);
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

  const modeValue = read(env, VARIABLES.mode)?.toLowerCase() ?? "static";
  let mode: CredentialsMode = "static";
  if (modeValue === "static" || modeValue === "web-identity") {
    mode = modeValue;
  } else {
    problems.add(`${VARIABLES.mode} must be static or web-identity, got ${shown(modeValue)}.`);
  }
  if (mode === "web-identity" && (sessionPolicy !== undefined || sessionPolicyArns.length > 0)) {
    problems.add(
      `${VARIABLES.mode} web-identity cannot carry AWS_SESSION_POLICY or AWS_SESSION_POLICY_ARNS: the SDKs that assume the role later send no session policy. Use static mode, or put the limits in the role's own policy.`,
    );
  }

  const verify = parseBoolean(env, VARIABLES.verify, true, problems);
  const maskAccountId = parseBoolean(env, VARIABLES.maskAccountId, false, problems);
  const debug = parseBoolean(env, VARIABLES.debug, false, problems);
  const { outputDir, display } = resolveOutputDir(env, cwd, problems);
  const codeartifact = parseCodeArtifact(env, problems);

  const ecrLogin = parseBoolean(env, VARIABLES.ecrLogin, false, problems);
  const ecrRegistryIds = parseAccountIds(env, VARIABLES.ecrRegistryIds, problems);
  if (!ecrLogin && ecrRegistryIds.length > 0) {
    problems.add(`${VARIABLES.ecrRegistryIds} is set but ${VARIABLES.ecrLogin} is not true.`);
  }

  const maxAttempts = parseInteger(
    env,
    VARIABLES.maxAttempts,
    5,
    (n) => n >= 1 && n <= 20,
    "from 1 to 20",
    problems,
  );
  const scaleValue = read(env, VARIABLES.retryTimeScale);
  let retryTimeScale = 1;
  if (scaleValue !== undefined) {
    const scale = Number(scaleValue);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
      problems.add(
        `${VARIABLES.retryTimeScale} must be a number above 0 and at most 1, got ${shown(scaleValue)}.`,
      );
    } else {
      retryTimeScale = scale;
    }
  }

  const general = parseEndpoint(env, VARIABLES.endpoint, problems);
  const endpoints: Endpoints = {
    sts: parseEndpoint(env, VARIABLES.endpointSts, problems) ?? general,
    codeartifact: parseEndpoint(env, VARIABLES.endpointCodeartifact, problems) ?? general,
    ecr: parseEndpoint(env, VARIABLES.endpointEcr, problems) ?? general,
  };

  const endpointOptions: EndpointOptions = {
    fips: parseBoolean(env, VARIABLES.useFipsEndpoint, false, problems),
    dualStack: parseBoolean(env, VARIABLES.useDualstackEndpoint, false, problems),
  };
  // The SDK's endpoint rules refuse a custom endpoint together with FIPS or dual-stack: say so
  // before any request, naming both variables. (Partitions without dual-stack or FIPS are the SDK's
  // to judge: its refusal on the first call is exit 2 too, before anything is sent.)
  const customEndpoint = [
    VARIABLES.endpoint,
    VARIABLES.endpointSts,
    VARIABLES.endpointCodeartifact,
    VARIABLES.endpointEcr,
  ].find((name) => read(env, name) !== undefined);
  for (const [flag, on] of [
    [VARIABLES.useFipsEndpoint, endpointOptions.fips],
    [VARIABLES.useDualstackEndpoint, endpointOptions.dualStack],
  ] as const) {
    if (on && customEndpoint !== undefined) {
      problems.add(
        `${flag} is true and ${customEndpoint} sets a custom endpoint: the AWS SDK refuses that combination. Unset one of them (a custom endpoint is used as it is).`,
      );
    }
  }

  // In a profile run the SDKs find the token file through aws-config: a path they would read
  // back differently is refused now, not after every AWS call.
  if (mode === "web-identity" && (profiles.length > 0 || chainRoleArn !== undefined)) {
    const why = iniValueProblem(path.join(outputDir, "web-identity-token"));
    if (why !== undefined && !hasControl(display)) {
      problems.add(
        `${VARIABLES.outputDir} (${display}) cannot be written into aws-config, which a profile run needs: its path has ${why}. Choose a folder name without it.`,
      );
    }
  }

  if (problems.list.length > 0) throw new InputErrors(problems.list);
  return {
    roleArn: roleArn as string,
    region: region as string,
    sessionName: sessionNameValue ?? defaultSessionName(env),
    durationSeconds,
    sessionPolicy,
    sessionPolicyArns,
    allowedAccountIds,
    profiles,
    chainRoleArn,
    chainExternalId,
    mode,
    verify,
    maskAccountId,
    outputDir,
    outputDirDisplay: display,
    cloneDir: read(env, VARIABLES.cloneDir),
    codeartifact,
    ecr: ecrLogin ? { registryIds: ecrRegistryIds } : undefined,
    debug,
    maxAttempts,
    retryTimeScale,
    endpoints,
    endpointOptions,
  };
}

/** The 12-digit account in an IAM or STS ARN. */
export const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]+::(\d{12}):/.exec(arn)?.[1];

/** Every role ARN the run will touch, for the allowed-accounts check before any request. */
export const roleArnsOf = (config: Config): Array<{ variable: string; arn: string }> => [
  { variable: VARIABLES.roleArn, arn: config.roleArn },
  ...config.profiles.map((p) => ({ variable: `${VARIABLES.profiles} (${p.name})`, arn: p.roleArn })),
  ...(config.chainRoleArn === undefined
    ? []
    : [{ variable: VARIABLES.chainRoleArn, arn: config.chainRoleArn }]),
];
