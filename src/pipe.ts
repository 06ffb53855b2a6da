import path from "node:path";
import { artifactsExposing } from "./artifacts.js";
import type { AwsContext } from "./aws/clients.js";
import { clockWarning, createClock } from "./aws/clock.js";
import { resolveEndpoints, type ServiceName } from "./aws/endpoints.js";
import { allOrCancel } from "./aws/retry.js";
import { type AssumedRole, getCallerIdentity, type Identity } from "./aws/sts.js";
import { createTransport } from "./aws/transport.js";
import { type Config, readConfig } from "./config/parse.js";
import { accountOf, roleArnsOf } from "./config/roles.js";
import { callRefusal } from "./diagnose.js";
import { InputErrors, isPipeError, refusedError } from "./errors.js";
import { featuresFor } from "./features/index.js";
import type { Log } from "./log.js";
import { createStaging, ownerToGive, writeOutputFiles } from "./outputs/files.js";
import { checkOutputDir, removeOutputFiles } from "./outputs/folder.js";
import { excludeFromGit } from "./outputs/gitExclude.js";
import { assembleOutputs, type Contribution, coreContribution, TOKEN_FILE } from "./outputs/render.js";
import { proveProfiles } from "./proofs.js";
import { withoutUserinfo } from "./redact.js";
import { assumeRoles, type RoleSession } from "./session.js";
import { successLines } from "./summary.js";
import { readStepToken, type StepToken } from "./token.js";

export interface PipeDeps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Log;
  now: () => number;
}

function checkAllowedAccounts(config: Config): void {
  if (config.allowedAccountIds.length === 0) return;
  for (const { variable, arn } of roleArnsOf(config)) {
    const account = accountOf(arn);
    if (account === undefined || !config.allowedAccountIds.includes(account)) {
      throw refusedError(
        `${variable} (${arn}) is in account ${account}, which AWS_ALLOWED_ACCOUNT_IDS does not allow.`,
        {
          fix: "Use a role in an allowed account, or add the account to AWS_ALLOWED_ACCOUNT_IDS if it is right.",
        },
      );
    }
  }
}

function checkVerifiedAccount(config: Config, identity: Identity): void {
  if (config.allowedAccountIds.length > 0 && !config.allowedAccountIds.includes(identity.account)) {
    throw refusedError(
      `The verified identity ${identity.arn} is in account ${identity.account}, which AWS_ALLOWED_ACCOUNT_IDS does not allow.`,
      { fix: "Check the role ARN and AWS_ALLOWED_ACCOUNT_IDS; no credentials were written." },
    );
  }
}

/**
 * The account guard without VERIFY: the accounts in the assume answers' ARNs, which an answer from
 * something that is not AWS could set to anything.
 */
function checkAssumedAccounts(config: Config, session: RoleSession): void {
  if (config.allowedAccountIds.length === 0) return;
  const roles = [session.main, session.chained, ...session.profiles.map((p) => p.role)];
  for (const role of roles) {
    if (role === undefined) continue;
    const account = accountOf(role.assumedRoleArn);
    if (account === undefined || !config.allowedAccountIds.includes(account)) {
      throw refusedError(
        `STS answered for ${role.roleArn} with the session ${role.assumedRoleArn}, in account ${account ?? "(none)"}, which AWS_ALLOWED_ACCOUNT_IDS does not allow.`,
        {
          fix: "Check the role ARN, AWS_ALLOWED_ACCOUNT_IDS and AWS_ENDPOINT_URL*; no credentials were written.",
        },
      );
    }
  }
}

async function verify(ctx: AwsContext, role: AssumedRole): Promise<Identity> {
  try {
    return await getCallerIdentity(ctx, role.credentials);
  } catch (error) {
    if (isPipeError(error)) throw error;
    throw callRefusal(
      "sts:GetCallerIdentity",
      error,
      `with the credentials of ${role.assumedRoleArn}`,
      "The role was assumed but its credentials were refused: check for an explicit Deny (SCP or permission boundary) on sts:GetCallerIdentity, or set VERIFY: false.",
    );
  }
}

/** How the pipe's calls show in CloudTrail's userAgent, after the SDK's own (which names Node and the OS). */
const USER_AGENT: [string, string] = ["bitbucket-aws-oidc", PIPE_VERSION];

/**
 * The run. On any failure, no credential file of this run or an earlier one stays in OUTPUT_DIR
 * (contract: "Exit status and messages"), also when a variable other than OUTPUT_DIR is bad.
 */
export async function runPipe(deps: PipeDeps): Promise<void> {
  const parsed = readConfig(deps.env, deps.cwd);
  if (parsed.problems !== undefined) {
    if (parsed.outputDir !== undefined) removeOutputFiles(parsed.outputDir, parsed.cloneDir);
    throw new InputErrors(parsed.problems);
  }
  const { config } = parsed;
  try {
    await run(config, deps);
  } catch (error) {
    removeOutputFiles(config.outputDir, config.cloneDir);
    throw error;
  }
}

async function run(config: Config, { env, cwd, log, now }: PipeDeps): Promise<void> {
  const token: StepToken = readStepToken(env, now());
  log.debug("configuration", {
    roleArn: config.roleArn,
    region: config.region,
    sessionName: config.sessionName,
    durationSeconds: config.durationSeconds,
    mode: config.mode,
    profiles: config.profiles,
    chainRoleArn: config.chainRoleArn,
    outputDir: config.outputDir,
    endpoints: {
      sts: withoutUserinfo(config.endpoints.sts),
      codeartifact: withoutUserinfo(config.endpoints.codeartifact),
      ecr: withoutUserinfo(config.endpoints.ecr),
    },
  });
  checkAllowedAccounts(config);
  checkOutputDir(config.outputDir, config.cloneDir);
  removeOutputFiles(config.outputDir, config.cloneDir);

  const services: ServiceName[] = [
    "sts",
    ...(config.codeartifact === undefined ? [] : (["codeartifact"] as const)),
    ...(config.ecr === undefined ? [] : (["ecr"] as const)),
  ];
  const endpoints = await resolveEndpoints(config.endpoints, services);
  const clock = createClock();
  const transport = await createTransport(env, clock, (host, proxy) =>
    log.info(`Using the proxy ${new URL(proxy).host} for ${host}.`),
  );
  const stop = new AbortController();
  const ctx: AwsContext = {
    region: config.region,
    transport,
    clock,
    userAgent: USER_AGENT,
    endpoints,
    fips: config.endpointOptions.fips,
    dualStack: config.endpointOptions.dualStack,
    retry: {
      maxAttempts: config.maxAttempts,
      timeScale: config.retryTimeScale,
      notAfterMs: token.claims.exp * 1000,
      cancel: stop.signal,
    },
    onRetry: (message) => log.warn(`${message}.`),
  };
  const owner = ownerToGive(config.cloneDir);
  const staging = createStaging(config.outputDir, owner);
  try {
    // The SDK's credential providers read the files as they will be (contract: "Files"): the token
    // first, since the assume itself goes through fromTokenFile.
    const tokenFile = staging.stage(TOKEN_FILE, token.value);
    // The main role, every profile's role and the chain; `defaults` are the default credentials
    // (the chained role's when chaining): what verification and the features use.
    // The features' code loads while the assume is on the wire.
    const featuresLoaded = featuresFor(config);
    // Awaited below; if the assume fails first, a failed load must not surface as an unhandled rejection.
    featuresLoaded.catch(() => {});
    const session = await assumeRoles(ctx, config, token, log, tokenFile);
    const defaults = session.defaults;
    checkAssumedAccounts(config, session);

    const skew = clockWarning(clock.offsetMs());
    if (skew !== undefined) log.warn(skew);

    let accountId = accountOf(defaults.assumedRoleArn) ?? accountOf(defaults.roleArn) ?? "";
    const features = await featuresLoaded;
    // Everything after the assume runs concurrently: one more round trip in all, not one per call.
    // The first failure stops the others: no request and no warning after the ✖ line.
    const [identity, , ...featureContributions] = await allOrCancel(
      [
        config.verify ? verify(ctx, defaults) : undefined,
        config.verify && session.profiles.length > 0
          ? proveProfiles(ctx, config, session, staging, { tokenFile, token: token.value }, log)
          : undefined,
        ...features.map((feature) =>
          feature.run({ aws: ctx, config, credentials: defaults.credentials, accountId, log }),
        ),
      ],
      stop,
    );
    if (identity !== undefined) {
      checkVerifiedAccount(config, identity);
      accountId = identity.account;
      // The ARN itself closes the run, on the ✔ line.
      log.info(`Verified with sts:GetCallerIdentity: the credentials work (account ${identity.account}).`);
    }

    const contributions: Contribution[] = [
      coreContribution({
        config,
        token: token.value,
        tokenFilePath: path.join(config.outputDir, TOKEN_FILE),
        main: session.main,
        chained: session.chained,
        profiles: session.profiles,
        accountId,
      }),
      ...featureContributions,
    ];
    const files = assembleOutputs(contributions);
    writeOutputFiles(config.outputDir, files, owner);
    try {
      const excluded = excludeFromGit(cwd, config.outputDir, owner, config.cloneDir);
      if (excluded && "added" in excluded) log.debug(`Added ${excluded.added} to .git/info/exclude.`);
      if (excluded && "leftAlone" in excluded) {
        log.info(
          `Left .git/info/exclude alone (${excluded.leftAlone}): add ${config.outputDirDisplay} to your ignore rules yourself if later commands run git add.`,
        );
      }
    } catch (error) {
      log.debug(`Could not add ${config.outputDirDisplay} to .git/info/exclude: ${(error as Error).message}`);
    }
    for (const glob of artifactsExposing(config.cloneDir, config.outputDir)) {
      log.warn(
        `bitbucket-pipelines.yml has artifacts: '${glob}', which matches ${config.outputDirDisplay}/: Bitbucket would upload the credentials and the token as build artifacts. Exclude the folder from that glob or choose another OUTPUT_DIR.`,
      );
    }
    const { info, success } = successLines({
      assumedRoleArn: defaults.assumedRoleArn,
      profileNames: session.profiles.map((p) => p.name),
      mode: config.mode,
      expiration: defaults.credentials.expiration,
      outputDir: config.outputDir,
      outputDirDisplay: config.outputDirDisplay,
      cwd,
      contributions,
      files,
    });
    for (const line of info) log.info(line);
    log.success(success);
  } finally {
    staging.discard();
    transport.destroy();
  }
}
