import path from "node:path";
import { type AssumedRole, assumeRoleWithWebIdentity, getCallerIdentity, type Identity } from "./assume.js";
import type { AwsContext } from "./aws.js";
import { accountOf, type Config, parseConfig, roleArnsOf, VARIABLES } from "./config.js";
import { callRefusal, webIdentityRefusal } from "./diagnose.js";
import { inputError, isPipeError, refusedError } from "./errors.js";
import { featuresFor } from "./features.js";
import { createHttpHandlers } from "./http.js";
import type { Log } from "./log.js";
import { checkOutputDir, ownerToGive, removeOutputFiles, writeOutputFiles } from "./outputs/files.js";
import { excludeFromGit } from "./outputs/gitExclude.js";
import { assembleOutputs, type Contribution, coreContribution, TOKEN_FILE } from "./outputs/render.js";
import { readStepToken, type StepToken } from "./token.js";

export interface PipeDeps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Log;
  now: () => number;
}

/** Features whose variables the contract names but this version does not carry out yet: refused, never ignored. */
function refuseUnbuilt(config: Config): void {
  const unbuilt: string[] = [];
  if (config.profiles.length > 0) unbuilt.push(VARIABLES.profiles);
  if (config.chainRoleArn !== undefined) unbuilt.push(VARIABLES.chainRoleArn);
  if (config.codeartifact !== undefined) unbuilt.push(VARIABLES.caDomain);
  if (config.ecr !== undefined) unbuilt.push(VARIABLES.ecrLogin);
  if (unbuilt.length > 0) {
    throw inputError(`${unbuilt.join(", ")}: not supported by this version of the pipe yet.`, {
      fix: "Remove these variables, or use a newer version of the pipe (see CHANGELOG.md).",
    });
  }
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

async function verify(ctx: AwsContext, config: Config, role: AssumedRole): Promise<Identity> {
  try {
    return await getCallerIdentity(ctx, config.endpoints.sts, role.credentials);
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

export async function runPipe({ env, cwd, log, now }: PipeDeps): Promise<void> {
  const config = parseConfig(env, cwd);
  refuseUnbuilt(config);
  const token: StepToken = readStepToken(env, now());
  log.debug("configuration", {
    roleArn: config.roleArn,
    region: config.region,
    sessionName: config.sessionName,
    durationSeconds: config.durationSeconds,
    mode: config.mode,
    outputDir: config.outputDir,
    endpoints: config.endpoints,
  });
  checkAllowedAccounts(config);
  await checkOutputDir(config.outputDir, config.cloneDir);
  await removeOutputFiles(config.outputDir, config.cloneDir);

  const handlers = createHttpHandlers();
  const ctx: AwsContext = {
    region: config.region,
    handlers,
    retry: {
      maxAttempts: config.maxAttempts,
      timeScale: config.retryTimeScale,
      notAfterMs: token.claims.exp * 1000,
    },
    onRetry: (message) => log.warn(`${message}.`),
  };
  try {
    const proxy = handlers.proxyFor(config.endpoints.sts ?? `https://sts.${config.region}.amazonaws.com`);
    if (proxy !== undefined) log.info(`Using the proxy ${new URL(proxy).host} for AWS calls.`);
    log.info(
      `Assuming ${config.roleArn} with the step's OIDC token (session ${config.sessionName}, ${config.durationSeconds} s, ${config.region}).`,
    );
    let main: AssumedRole;
    try {
      main = await assumeRoleWithWebIdentity(ctx, config.endpoints.sts, {
        roleArn: config.roleArn,
        sessionName: config.sessionName,
        durationSeconds: config.durationSeconds,
        token: token.value,
        policy: config.sessionPolicy,
        policyArns: config.sessionPolicyArns,
      });
    } catch (error) {
      if (isPipeError(error)) throw error;
      throw webIdentityRefusal(error, token.claims, config.roleArn);
    }
    log.addSecret(main.credentials.secretAccessKey);
    log.addSecret(main.credentials.sessionToken);
    log.addSecret(main.credentials.accessKeyId);
    log.info(
      `Assumed ${main.assumedRoleArn}; the credentials expire at ${main.credentials.expiration.toISOString()}.`,
    );

    let accountId = accountOf(main.assumedRoleArn) ?? accountOf(config.roleArn) ?? "";
    const features = await featuresFor(config);
    // Everything after the assume runs concurrently: one more round trip in all, not one per call.
    const [identity, ...featureContributions] = await Promise.all([
      config.verify ? verify(ctx, config, main) : undefined,
      ...features.map((feature) =>
        feature.run({ aws: ctx, config, credentials: main.credentials, accountId, log }),
      ),
    ]);
    if (identity !== undefined) {
      checkVerifiedAccount(config, identity);
      accountId = identity.account;
      log.info(`Verified: these credentials are ${identity.arn} (account ${identity.account}).`);
    }

    const contributions: Contribution[] = [
      coreContribution({
        config,
        token: token.value,
        tokenFilePath: path.join(config.outputDir, TOKEN_FILE),
        main,
        accountId,
      }),
      ...featureContributions,
    ];
    const owner = await ownerToGive(config.cloneDir);
    await writeOutputFiles(config.outputDir, assembleOutputs(contributions), owner);
    const excluded = await excludeFromGit(cwd, config.outputDir, owner).catch((error: unknown) => {
      log.debug(`Could not add ${config.outputDirDisplay} to .git/info/exclude: ${(error as Error).message}`);
      return undefined;
    });
    if (excluded) log.debug(`Added ${excluded} to .git/info/exclude.`);
    const envPath = path.relative(cwd, path.join(config.outputDir, "env")) || "env";
    log.success(
      `AWS credentials for ${main.assumedRoleArn} are ready (${config.mode}, until ${main.credentials.expiration.toISOString()}). Next in this step: . ./${envPath}`,
    );
  } finally {
    handlers.destroy();
  }
}
