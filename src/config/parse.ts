import { InputErrors } from "../errors.js";
import { type CodeArtifactConfig, parseCodeArtifact } from "./codeartifact.js";
import { type EndpointOptions, type Endpoints, parseEndpoints, parseRegion } from "./endpoints.js";
import { checkIniSafe, resolveOutputDir } from "./outputDir.js";
import {
  checkControlCharacters,
  Problems,
  parseAccountIds,
  parseBoolean,
  parseInteger,
  read,
  shown,
} from "./read.js";
import { parseRoleArn, parseRoles, type Roles } from "./roles.js";
import { VARIABLES } from "./variables.js";

/** The entry: env -> Config, every variable checked at once (the concerns beside this file parse their own). */

export interface EcrConfig {
  registryIds: string[];
}

/** The roles' part (session name, duration, policies, accounts, profiles, chain, mode) is `Roles`. */
export interface Config extends Roles {
  roleArn: string;
  region: string;
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
  /** BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: 1 but in the pipe's own tests. */
  retryTimeScale: number;
  endpoints: Endpoints;
  /** AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT. */
  endpointOptions: EndpointOptions;
}

function parseEcr(env: NodeJS.ProcessEnv, problems: Problems): EcrConfig | undefined {
  const ecrLogin = parseBoolean(env, "ecrLogin", problems);
  const registryIds = parseAccountIds(env, VARIABLES.ecrRegistryIds, problems);
  if (!ecrLogin && registryIds.length > 0) {
    problems.add(`${VARIABLES.ecrRegistryIds} is set but ${VARIABLES.ecrLogin} is not true.`);
  }
  return ecrLogin ? { registryIds } : undefined;
}

/** The test knob that shortens the retry policy's times; never documented for users. */
function parseTimeScale(env: NodeJS.ProcessEnv, problems: Problems): number {
  const scaleValue = read(env, VARIABLES.testTimeScale);
  if (scaleValue === undefined) return 1;
  const scale = Number(scaleValue);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    problems.add(
      `${VARIABLES.testTimeScale} must be a number above 0 and at most 1, got ${shown(scaleValue)}.`,
    );
    return 1;
  }
  return scale;
}

/**
 * Every variable, checked at once: the Config, or every problem found. With problems, the output
 * folder comes along when OUTPUT_DIR itself is sound: an earlier run's files are removed even when
 * another variable is bad (contract: "Exit status and messages").
 */
export type ParsedConfig =
  | { config: Config; problems?: undefined }
  | {
      config?: undefined;
      problems: readonly string[];
      outputDir: string | undefined;
      cloneDir: string | undefined;
    };

export function readConfig(env: NodeJS.ProcessEnv, cwd: string): ParsedConfig {
  const problems = new Problems();
  checkControlCharacters(env, problems);

  const roleArn = parseRoleArn(env, problems);
  const region = parseRegion(env, problems);
  const roles = parseRoles(env, problems);
  const verify = parseBoolean(env, "verify", problems);
  const maskAccountId = parseBoolean(env, "maskAccountId", problems);
  const debug = parseBoolean(env, "debug", problems);
  const before = problems.list.length;
  const outputDir = resolveOutputDir(env, cwd, problems);
  const outputDirSound = problems.list.length === before;
  const codeartifact = parseCodeArtifact(env, problems);
  const ecr = parseEcr(env, problems);
  const maxAttempts = parseInteger(env, "maxAttempts", (n) => n >= 1 && n <= 20, "from 1 to 20", problems);
  const retryTimeScale = parseTimeScale(env, problems);
  const { endpoints, endpointOptions } = parseEndpoints(env, problems);
  if (roles.mode === "web-identity" && (roles.profiles.length > 0 || roles.chainRoleArn !== undefined)) {
    checkIniSafe(outputDir, problems);
  }
  const cloneDir = read(env, VARIABLES.cloneDir);

  if (problems.list.length > 0) {
    return { problems: problems.list, outputDir: outputDirSound ? outputDir.outputDir : undefined, cloneDir };
  }
  return {
    config: {
      roleArn: roleArn as string,
      region: region as string,
      ...roles,
      verify,
      maskAccountId,
      outputDir: outputDir.outputDir,
      outputDirDisplay: outputDir.display,
      cloneDir,
      codeartifact,
      ecr,
      debug,
      maxAttempts,
      retryTimeScale,
      endpoints,
      endpointOptions,
    },
  };
}

/** readConfig for callers that only go on with a Config: throws InputErrors listing every problem. */
export function parseConfig(env: NodeJS.ProcessEnv, cwd: string): Config {
  const parsed = readConfig(env, cwd);
  if (parsed.problems !== undefined) throw new InputErrors(parsed.problems);
  return parsed.config;
}
