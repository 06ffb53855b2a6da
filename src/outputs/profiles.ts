import type { AssumedRole } from "../aws/sts.js";
import { type CredentialsMode, RESERVED_PROFILE } from "../config/roles.js";
import { internalError } from "../errors.js";
import type { OutputFile } from "./files.js";
import type { EnvEntry } from "./shell.js";

/**
 * Profile runs (AWS_PROFILES, or AWS_CHAIN_ROLE_ARN in web-identity mode): the credentials travel
 * only through the AWS shared config and credentials files, so that `AWS_PROFILE` and `--profile`
 * pick the same role in every CLI and SDK (they disagree on whether environment keys or a chosen
 * profile win; with no keys in the environment there is nothing to disagree about). Pure: no I/O.
 */

export const CONFIG_FILE = "aws-config";
export const CREDENTIALS_FILE = "aws-credentials";

export interface ProfileRun {
  mode: CredentialsMode;
  region: string;
  /** Absolute path of the step's token file, as SDKs will read it. */
  tokenFilePath: string;
  /** The role the step's token assumed (AWS_ROLE_ARN). */
  main: AssumedRole;
  /** AWS_CHAIN_ROLE_ARN's session: the default credentials when set. */
  chained: AssumedRole | undefined;
  chainExternalId: string | undefined;
  /** AWS_PROFILES, assumed, in the order given (the session's NamedRole: this file only reads it). */
  profiles: ReadonlyArray<{ name: string; role: AssumedRole }>;
}

/** Whether this configuration makes a profile run (CONTRACT.md, "What env exports"). */
export const isProfileRun = (config: {
  profiles: readonly unknown[];
  chainRoleArn: string | undefined;
  mode: CredentialsMode;
}): boolean =>
  config.profiles.length > 0 || (config.chainRoleArn !== undefined && config.mode === "web-identity");

/**
 * Every value goes on one line, and neither botocore nor the JavaScript SDK must read part of it as
 * a comment (the JavaScript SDK cuts a line at ` #` or ` ;`). Only the token file's path can hold
 * such characters: every other value was validated or comes from STS.
 */
function iniLine(file: string, key: string, value: string): string {
  if (/[\r\n\0]/.test(value) || /(^|\s)[;#]/.test(value) || value !== value.trim()) {
    throw internalError(
      `Could not write ${file}: its ${key} would be ${JSON.stringify(value)}, which AWS SDKs cannot read back (a line break, leading or trailing blanks, or a blank followed by # or ; that starts a comment).`,
      { fix: "Use an OUTPUT_DIR whose path has none of these, then run the step again." },
    );
  }
  return `${key} = ${value}`;
}

type Section = { header: string; entries: Array<[string, string]> };

function renderIni(file: string, sections: readonly Section[]): string {
  return `${sections
    .map(({ header, entries }) =>
      [`[${header}]`, ...entries.map(([key, value]) => iniLine(file, key, value))].join("\n"),
    )
    .join("\n\n")}\n`;
}

const webIdentityEntries = (run: ProfileRun, role: AssumedRole): Array<[string, string]> => [
  ["role_arn", role.roleArn],
  ["web_identity_token_file", run.tokenFilePath],
  ["role_session_name", role.sessionName],
  ["region", run.region],
];

/**
 * The AWS shared config file: `[default]` is the default credentials, `[profile NAME]` each
 * AWS_PROFILES role. In web-identity mode every section tells the SDK how to assume its role by
 * itself (and refresh it while the token lasts); a chained default is sourced from
 * `[profile bitbucket-oidc]`, the role the token assumes. In static mode the keys live in
 * aws-credentials and this file carries the region only.
 */
export function renderAwsConfig(run: ProfileRun): string {
  const sections: Section[] = [];
  const regionOnly: Array<[string, string]> = [["region", run.region]];
  if (run.mode === "static") {
    sections.push({ header: "default", entries: regionOnly });
    for (const { name } of run.profiles) sections.push({ header: `profile ${name}`, entries: regionOnly });
    return renderIni(CONFIG_FILE, sections);
  }
  if (run.chained === undefined) {
    sections.push({ header: "default", entries: webIdentityEntries(run, run.main) });
  } else {
    sections.push(
      {
        header: "default",
        entries: [
          ["role_arn", run.chained.roleArn],
          ["source_profile", RESERVED_PROFILE],
          ...(run.chainExternalId === undefined
            ? []
            : [["external_id", run.chainExternalId] as [string, string]]),
          ["role_session_name", run.chained.sessionName],
          ["region", run.region],
        ],
      },
      { header: `profile ${RESERVED_PROFILE}`, entries: webIdentityEntries(run, run.main) },
    );
  }
  for (const { name, role } of run.profiles) {
    sections.push({ header: `profile ${name}`, entries: webIdentityEntries(run, role) });
  }
  return renderIni(CONFIG_FILE, sections);
}

const keyEntries = (role: AssumedRole): Array<[string, string]> => [
  ["aws_access_key_id", role.credentials.accessKeyId],
  ["aws_secret_access_key", role.credentials.secretAccessKey],
  ["aws_session_token", role.credentials.sessionToken],
];

/** The AWS shared credentials file (static mode): `[default]` and one `[NAME]` per profile, with keys. */
export function renderAwsCredentials(run: ProfileRun): string {
  return renderIni(CREDENTIALS_FILE, [
    { header: "default", entries: keyEntries(run.chained ?? run.main) },
    ...run.profiles.map(({ name, role }) => ({ header: name, entries: keyEntries(role) })),
  ]);
}

/** The static keys: exported in static plain runs, unset wherever something else must win. */
export const KEY_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;

/** Variables a profile run must clear: any of them would override or confuse the profile a user picks. */
export const PROFILE_RUN_UNSET = [
  ...KEY_VARIABLES,
  "AWS_ROLE_ARN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_SESSION_NAME",
  "AWS_PROFILE",
] as const;

/**
 * A profile run's files and the `env` entries after the region: the file locations and the
 * `unset` of everything else a CLI or SDK would prefer over a profile.
 */
export function profileRunOutputs(
  run: ProfileRun,
  paths: { configFile: string; credentialsFile: string },
): { env: EnvEntry[]; files: OutputFile[] } {
  const files: OutputFile[] = [{ name: CONFIG_FILE, content: renderAwsConfig(run) }];
  const env: EnvEntry[] = [{ name: "AWS_CONFIG_FILE", value: paths.configFile }];
  if (run.mode === "static") {
    files.push({ name: CREDENTIALS_FILE, content: renderAwsCredentials(run) });
    env.push({ name: "AWS_SHARED_CREDENTIALS_FILE", value: paths.credentialsFile });
  }
  env.push(...PROFILE_RUN_UNSET.map((name) => ({ name, unset: true as const })));
  return { env, files };
}
