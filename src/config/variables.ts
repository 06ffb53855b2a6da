/**
 * The registry: every variable the pipe reads, one row each, in the order the README's table
 * lists the pipe's own. `--help` prints the pipe's rows; the README's table is checked against
 * them (test/config/variables.test.ts, test/docs.test.ts). The parsing itself is grouped by concern beside this
 * file; booleans and whole numbers take their default from their row here.
 */

/**
 * Who sets a variable:
 * - `pipe`: the pipe's own, set under the pipe's `variables:` (the README's table, `--help`);
 * - `alias`: another name of a pipe variable, documented in that variable's row;
 * - `sdk`: the AWS SDK's own settings, which the pipe honours (docs/network.md);
 * - `bitbucket`: set by Bitbucket for every step;
 * - `test`: for the pipe's own tests only, never documented for users.
 */
export type Audience = "pipe" | "alias" | "sdk" | "bitbucket" | "test";

export interface VariableRow {
  name: string;
  audience: Audience;
  /** What the parser accepts, as `--help` shows it. */
  parser: string;
  /** As `--help` and the README show it; absent: none (or, for `(*)` rows, required). */
  default?: string;
  required?: boolean;
  /** For an `alias` row: the pipe variable it is another name of. */
  aliasOf?: string;
  /** One line for `--help`; the README's row says more. */
  doc: string;
}

const ROWS = {
  roleArn: {
    name: "AWS_ROLE_ARN",
    audience: "pipe",
    parser: "IAM role ARN",
    required: true,
    doc: "The IAM role to assume: the default credentials.",
  },
  oidcRoleArn: {
    name: "AWS_OIDC_ROLE_ARN",
    audience: "alias",
    aliasOf: "AWS_ROLE_ARN",
    parser: "IAM role ARN",
    doc: "Another name of AWS_ROLE_ARN (Atlassian's own AWS pipes use it).",
  },
  region: {
    name: "AWS_REGION",
    audience: "pipe",
    parser: "region name",
    required: true,
    doc: "Region for STS, CodeArtifact and ECR (or AWS_DEFAULT_REGION).",
  },
  defaultRegion: {
    name: "AWS_DEFAULT_REGION",
    audience: "alias",
    aliasOf: "AWS_REGION",
    parser: "region name",
    doc: "Used when AWS_REGION is not set.",
  },
  sessionName: {
    name: "AWS_ROLE_SESSION_NAME",
    audience: "pipe",
    parser: "2-64 of A-Z a-z 0-9 _ + = , . @ -",
    default: "bitbucket-<repo slug>-<build number>",
    doc: "Session name, as CloudTrail shows it.",
  },
  duration: {
    name: "AWS_ROLE_DURATION_SECONDS",
    audience: "pipe",
    parser: "900-43200",
    default: "3600",
    doc: "Session length in seconds.",
  },
  sessionPolicy: {
    name: "AWS_SESSION_POLICY",
    audience: "pipe",
    parser: "JSON policy",
    doc: "Inline session policy that narrows the role's permissions (static mode).",
  },
  sessionPolicyArns: {
    name: "AWS_SESSION_POLICY_ARNS",
    audience: "pipe",
    parser: "policy ARNs, at most 10",
    doc: "Managed session policies (static mode).",
  },
  allowedAccounts: {
    name: "AWS_ALLOWED_ACCOUNT_IDS",
    audience: "pipe",
    parser: "12-digit account ids",
    doc: "Only roles and identities in these accounts; another is exit 3.",
  },
  profiles: {
    name: "AWS_PROFILES",
    audience: "pipe",
    parser: "name=roleArn pairs",
    doc: "More roles at once, each a named profile.",
  },
  chainRoleArn: {
    name: "AWS_CHAIN_ROLE_ARN",
    audience: "pipe",
    parser: "IAM role ARN",
    doc: "Then sts:AssumeRole into this role: the default credentials.",
  },
  chainExternalId: {
    name: "AWS_CHAIN_EXTERNAL_ID",
    audience: "pipe",
    parser: "2-1224 characters",
    doc: "External id for that sts:AssumeRole.",
  },
  mode: {
    name: "CREDENTIALS_MODE",
    audience: "pipe",
    parser: "static|web-identity",
    default: "static",
    doc: "Export access keys, or the role ARN and token file.",
  },
  verify: {
    name: "VERIFY",
    audience: "pipe",
    parser: "true|false",
    default: "true",
    doc: "Call GetCallerIdentity with the new credentials.",
  },
  maskAccountId: {
    name: "MASK_ACCOUNT_ID",
    audience: "pipe",
    parser: "true|false",
    default: "false",
    doc: "Print ************ instead of account ids in the log.",
  },
  outputDir: {
    name: "OUTPUT_DIR",
    audience: "pipe",
    parser: "folder in the clone dir",
    default: ".aws-oidc",
    doc: "Where the files go, relative to the working directory.",
  },
  caDomain: {
    name: "CODEARTIFACT_DOMAIN",
    audience: "pipe",
    parser: "domain name",
    doc: "With CODEARTIFACT_REPOSITORY: log in to AWS CodeArtifact.",
  },
  caRepository: {
    name: "CODEARTIFACT_REPOSITORY",
    audience: "pipe",
    parser: "repository name",
    doc: "The CodeArtifact repository.",
  },
  caDomainOwner: {
    name: "CODEARTIFACT_DOMAIN_OWNER",
    audience: "pipe",
    parser: "12-digit account id",
    default: "the default credentials' account",
    doc: "The domain's account id.",
  },
  caTools: {
    name: "CODEARTIFACT_TOOLS",
    audience: "pipe",
    parser: "npm,pnpm,yarn,pip,uv,poetry,twine,maven,gradle,nuget",
    default: "npm",
    doc: "The tools to log in.",
  },
  caNpmScope: {
    name: "CODEARTIFACT_NPM_SCOPE",
    audience: "pipe",
    parser: "@scope",
    doc: "Only that npm scope comes from CodeArtifact.",
  },
  caDuration: {
    name: "CODEARTIFACT_DURATION_SECONDS",
    audience: "pipe",
    parser: "0 or 900-43200",
    default: "0",
    doc: "CodeArtifact token lifetime; 0: as long as the role session.",
  },
  ecrLogin: {
    name: "ECR_LOGIN",
    audience: "pipe",
    parser: "true|false",
    default: "false",
    doc: "Log Docker in to Amazon ECR (DOCKER_CONFIG).",
  },
  ecrRegistryIds: {
    name: "ECR_REGISTRY_IDS",
    audience: "pipe",
    parser: "12-digit account ids",
    default: "the default credentials' account",
    doc: "Whose registries (same region) to log in to.",
  },
  debug: {
    name: "DEBUG",
    audience: "pipe",
    parser: "true|false",
    default: "false",
    doc: "More detail in the log. Never secrets.",
  },
  maxAttempts: {
    name: "AWS_MAX_ATTEMPTS",
    audience: "sdk",
    parser: "1-20",
    default: "5",
    doc: "Attempts per AWS call on transient faults other than throttling.",
  },
  testTimeScale: {
    name: "BITBUCKET_AWS_OIDC_TEST_TIME_SCALE",
    audience: "test",
    parser: "above 0, at most 1",
    default: "1",
    doc: "Shortens every delay, timeout and deadline of the retry policy, for the pipe's own tests.",
  },
  endpoint: {
    name: "AWS_ENDPOINT_URL",
    audience: "sdk",
    parser: "https:// URL (http:// to loopback)",
    doc: "Endpoint of every AWS service.",
  },
  endpointSts: {
    name: "AWS_ENDPOINT_URL_STS",
    audience: "sdk",
    parser: "https:// URL (http:// to loopback)",
    doc: "Endpoint of STS.",
  },
  endpointCodeartifact: {
    name: "AWS_ENDPOINT_URL_CODEARTIFACT",
    audience: "sdk",
    parser: "https:// URL (http:// to loopback)",
    doc: "Endpoint of CodeArtifact.",
  },
  endpointEcr: {
    name: "AWS_ENDPOINT_URL_ECR",
    audience: "sdk",
    parser: "https:// URL (http:// to loopback)",
    doc: "Endpoint of ECR.",
  },
  useFipsEndpoint: {
    name: "AWS_USE_FIPS_ENDPOINT",
    audience: "sdk",
    parser: "true|false",
    default: "false",
    doc: "FIPS endpoints.",
  },
  useDualstackEndpoint: {
    name: "AWS_USE_DUALSTACK_ENDPOINT",
    audience: "sdk",
    parser: "true|false",
    default: "false",
    doc: "Dual-stack endpoints.",
  },
  cloneDir: {
    name: "BITBUCKET_CLONE_DIR",
    audience: "bitbucket",
    parser: "folder",
    doc: "The clone directory: OUTPUT_DIR must be inside it.",
  },
  repoSlug: {
    name: "BITBUCKET_REPO_SLUG",
    audience: "bitbucket",
    parser: "text",
    doc: "In the default session name.",
  },
  buildNumber: {
    name: "BITBUCKET_BUILD_NUMBER",
    audience: "bitbucket",
    parser: "text",
    doc: "In the default session name.",
  },
} as const satisfies Record<string, VariableRow>;

export type VariableKey = keyof typeof ROWS;

/** Every row, by its key in the code. */
export const REGISTRY: Readonly<Record<VariableKey, VariableRow>> = ROWS;

/** Every variable the pipe reads, by key: the contract's names, in one place. */
export const VARIABLES = Object.fromEntries(Object.entries(ROWS).map(([key, row]) => [key, row.name])) as {
  readonly [K in VariableKey]: (typeof ROWS)[K]["name"];
};

/** The rows of one audience, in the registry's order. */
export const rowsFor = (audience: Audience): VariableRow[] =>
  Object.values(REGISTRY).filter((row) => row.audience === audience);

/** The pipe's own variables as `--help` lists them: one line each, `(*)` for required ones. */
export function variablesHelp(): string {
  const rows = rowsFor("pipe");
  const names = rows.map((row) => `${row.name}${row.required ? " (*)" : ""}`);
  const width = Math.max(...names.map((name) => name.length)) + 2;
  return rows
    .map((row, i) => {
      const fallback = row.default === undefined ? "" : ` Default: ${row.default}.`;
      return `  ${(names[i] ?? "").padEnd(width)}${row.doc} [${row.parser}]${fallback}`;
    })
    .join("\n");
}
