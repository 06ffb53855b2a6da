import type { AssumedRole } from "../assume.js";
import type { Config } from "../config.js";
import type { OutputFile } from "./files.js";
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

const CREDENTIAL_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;

export interface CoreOutputs {
  config: Config;
  token: string;
  tokenFilePath: string;
  /** The role the web identity assumed. */
  main: AssumedRole;
  accountId: string;
}

/** The default credentials for a plain run (no profiles, no chain), in either mode. */
export function coreContribution(core: CoreOutputs): Contribution {
  const { config, main } = core;
  const region: EnvEntry[] = [
    { name: "AWS_REGION", value: config.region },
    { name: "AWS_DEFAULT_REGION", value: config.region },
  ];
  const identity: EnvEntry[] = [
    { name: "AWS_ROLE_ARN", value: main.roleArn },
    { name: "AWS_ROLE_SESSION_NAME", value: main.sessionName },
    { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: core.tokenFilePath },
  ];
  const keys: EnvEntry[] =
    config.mode === "static"
      ? [
          { name: "AWS_ACCESS_KEY_ID", value: main.credentials.accessKeyId },
          { name: "AWS_SECRET_ACCESS_KEY", value: main.credentials.secretAccessKey },
          { name: "AWS_SESSION_TOKEN", value: main.credentials.sessionToken },
          { name: "AWS_CREDENTIAL_EXPIRATION", value: main.credentials.expiration.toISOString() },
        ]
      : [...CREDENTIAL_VARIABLES, "AWS_PROFILE"].map((name) => ({ name, unset: true as const }));
  return {
    env: [...region, ...identity, ...keys],
    // Static keys are enough for a container; web-identity needs the token file mounted at the same path.
    dockerEnv: config.mode === "static" ? [...region, ...keys] : [...region, ...identity],
    files: [{ name: TOKEN_FILE, content: core.token }],
    outputs: {
      accountId: core.accountId,
      roleArn: main.roleArn,
      assumedRoleArn: main.assumedRoleArn,
      sessionName: main.sessionName,
      region: config.region,
      expiration: main.credentials.expiration.toISOString(),
      mode: config.mode,
    },
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
