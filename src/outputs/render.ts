import path from "node:path";
import type { AssumedRole } from "../aws/sts.js";
import type { Config } from "../config/parse.js";
import type { OutputFile } from "./files.js";
import {
  CONFIG_FILE,
  CREDENTIALS_FILE,
  isProfileRun,
  KEY_VARIABLES,
  type ProfileRun,
  profileRunOutputs,
} from "./profiles.js";
import { type EnvEntry, renderDockerEnvFile, renderEnvFile } from "./shell.js";

/**
 * What one part of a run adds to the outputs: variables for `env` (and `docker.env`), files of its
 * own, and its non-secret summary for `outputs.json`. The core credentials, CodeArtifact, ECR and
 * profiles each contribute; `assembleOutputs` joins them. Pure: no I/O.
 */
export interface Contribution {
  env: EnvEntry[];
  /** Variables for `docker run --env-file`; defaults to none. */
  dockerEnv?: EnvEntry[];
  files?: OutputFile[];
  outputs?: Record<string, unknown>;
}

export const TOKEN_FILE = "web-identity-token";

export interface CoreOutputs {
  config: Config;
  token: string;
  tokenFilePath: string;
  /** The role the web identity assumed (AWS_ROLE_ARN). */
  main: AssumedRole;
  /** AWS_CHAIN_ROLE_ARN's session, assumed with main's credentials: the default credentials when set. */
  chained?: AssumedRole | undefined;
  /** AWS_PROFILES, assumed, in the order given. */
  profiles?: ProfileRun["profiles"] | undefined;
  /** The default credentials' account. */
  accountId: string;
}

/**
 * The default credentials in either mode, for a plain run (no profiles, no chain in web-identity
 * mode) or a profile run, whose credentials travel only through aws-config/aws-credentials.
 */
export function coreContribution(core: CoreOutputs): Contribution {
  const { config, main } = core;
  const defaults = core.chained ?? main;
  const profiles = core.profiles ?? [];
  const region: EnvEntry[] = [
    { name: "AWS_REGION", value: config.region },
    { name: "AWS_DEFAULT_REGION", value: config.region },
  ];
  const keys: EnvEntry[] = [
    { name: "AWS_ACCESS_KEY_ID", value: defaults.credentials.accessKeyId },
    { name: "AWS_SECRET_ACCESS_KEY", value: defaults.credentials.secretAccessKey },
    { name: "AWS_SESSION_TOKEN", value: defaults.credentials.sessionToken },
    { name: "AWS_CREDENTIAL_EXPIRATION", value: defaults.credentials.expiration.toISOString() },
  ];
  const files: OutputFile[] = [{ name: TOKEN_FILE, content: core.token }];
  // outputs.json describes the default credentials: with a chain, the chained role's.
  const outputs: Record<string, unknown> = {
    accountId: core.accountId,
    roleArn: defaults.roleArn,
    assumedRoleArn: defaults.assumedRoleArn,
    sessionName: defaults.sessionName,
    region: config.region,
    expiration: defaults.credentials.expiration.toISOString(),
    mode: config.mode,
    ...(core.chained === undefined
      ? {}
      : { chainedFrom: { roleArn: main.roleArn, assumedRoleArn: main.assumedRoleArn } }),
    ...(profiles.length === 0
      ? {}
      : { profiles: Object.fromEntries(profiles.map(({ name, role }) => [name, role.assumedRoleArn])) }),
  };

  if (isProfileRun(config)) {
    const configFile = path.join(config.outputDir, CONFIG_FILE);
    const run = profileRunOutputs(
      {
        mode: config.mode,
        region: config.region,
        tokenFilePath: core.tokenFilePath,
        main,
        chained: core.chained,
        chainExternalId: config.chainExternalId,
        profiles,
      },
      { configFile, credentialsFile: path.join(config.outputDir, CREDENTIALS_FILE) },
    );
    return {
      env: [...region, ...run.env],
      // A container gets the default credentials: static keys, or (web-identity) the config file,
      // which works once OUTPUT_DIR is mounted at the same path (it names the token file there).
      dockerEnv:
        config.mode === "static"
          ? [...region, ...keys]
          : [...region, { name: "AWS_CONFIG_FILE", value: configFile }],
      files: [...files, ...run.files],
      outputs,
    };
  }

  // Plain run. AWS_ROLE_ARN stays the role the token file can assume: the pair is what a tool that
  // prefers web identity uses. With a chain (static mode only here), the keys are the chained role's.
  const identity: EnvEntry[] = [
    { name: "AWS_ROLE_ARN", value: main.roleArn },
    { name: "AWS_ROLE_SESSION_NAME", value: main.sessionName },
    { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: core.tokenFilePath },
  ];
  const credentials: EnvEntry[] =
    config.mode === "static"
      ? keys
      : [...KEY_VARIABLES, "AWS_PROFILE"].map((name) => ({ name, unset: true as const }));
  return {
    env: [...region, ...identity, ...credentials],
    // Static keys are enough for a container; web-identity needs the token file mounted at the same path.
    dockerEnv: config.mode === "static" ? [...region, ...keys] : [...region, ...identity],
    files,
    outputs,
  };
}

/** Every file of the run, in the order they are written: the token first, `env` last. */
export function assembleOutputs(contributions: readonly Contribution[]): OutputFile[] {
  const env = contributions.flatMap((c) => c.env);
  const dockerEnv = contributions.flatMap((c) => c.dockerEnv ?? []);
  const outputs = Object.assign({}, ...contributions.map((c) => c.outputs ?? {}));
  return [
    ...contributions.flatMap((c) => c.files ?? []),
    { name: "outputs.json", content: `${JSON.stringify(outputs, null, 2)}\n` },
    { name: "docker.env", content: renderDockerEnvFile(dockerEnv) },
    // Last: a step that sources `env` while we write sees either nothing or everything.
    { name: "env", content: renderEnvFile(env) },
  ];
}
