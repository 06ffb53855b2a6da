import path from "node:path";
import { artifactsExposing } from "./artifacts.js";
import { type AssumedRole, getCallerIdentity, type Identity, stsEndpointOf } from "./assume.js";
import type { AwsContext } from "./aws.js";
import { accountOf, type Config, parseConfig, roleArnsOf } from "./config.js";
import { callRefusal } from "./diagnose.js";
import { isPipeError, refusedError } from "./errors.js";
import { featuresFor } from "./features.js";
import { createHttpAgents } from "./http.js";
import type { Log } from "./log.js";
import { checkOutputDir, ownerToGive, removeOutputFiles, writeOutputFiles } from "./outputs/files.js";
import { excludeFromGit } from "./outputs/gitExclude.js";
import { assembleOutputs, type Contribution, coreContribution, TOKEN_FILE } from "./outputs/render.js";
import { allOrCancel } from "./retry.js";
import { assumeRoles } from "./session.js";
import { loadSigningCrypto } from "./sts.js";
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

/** `bitbucket-aws-oidc/<version>` first: how the pipe's calls show in CloudTrail's userAgent. */
const USER_AGENT = `bitbucket-aws-oidc/${PIPE_VERSION} md/nodejs#${process.versions.node} os/${process.platform}`;

export async function runPipe({ env, cwd, log, now }: PipeDeps): Promise<void> {
  const config = parseConfig(env, cwd);
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
    endpoints: config.endpoints,
  });
  checkAllowedAccounts(config);
  checkOutputDir(config.outputDir, config.cloneDir);
  removeOutputFiles(config.outputDir, config.cloneDir);
  const exposed = artifactsExposing(config.cloneDir, config.outputDir).catch(() => []);

  const agents = await createHttpAgents();
  const stop = new AbortController();
  const ctx: AwsContext = {
    region: config.region,
    agents,
    userAgent: USER_AGENT,
    endpointOptions: config.endpointOptions,
    // Verification and chaining sign their calls: node:crypto (~8 ms to load) loads while the
    // assume's answer is on its way instead of before the first request.
    whileWaiting: config.verify || config.chainRoleArn !== undefined ? loadSigningCrypto : undefined,
    retry: {
      maxAttempts: config.maxAttempts,
      timeScale: config.retryTimeScale,
      notAfterMs: token.claims.exp * 1000,
      cancel: stop.signal,
    },
    onRetry: (message) => log.warn(`${message}.`),
  };
  try {
    const proxy = agents.proxyFor(stsEndpointOf(ctx, config.endpoints.sts));
    if (proxy !== undefined) log.info(`Using the proxy ${new URL(proxy).host} for AWS calls.`);
    // The main role, every profile's role and the chain; `defaults` are the default credentials
    // (the chained role's when chaining): what verification and the features use.
    // The features' code loads while the assume is on the wire.
    const featuresLoaded = featuresFor(config);
    // Awaited below; if the assume fails first, a failed load must not surface as an unhandled rejection.
    featuresLoaded.catch(() => {});
    const session = await assumeRoles(ctx, config, token, log);
    const defaults = session.defaults;

    let accountId = accountOf(defaults.assumedRoleArn) ?? accountOf(defaults.roleArn) ?? "";
    const features = await featuresLoaded;
    // Everything after the assume runs concurrently: one more round trip in all, not one per call.
    // The first failure stops the others: no request and no warning after the ✖ line.
    const [identity, ...featureContributions] = await allOrCancel(
      [
        config.verify ? verify(ctx, config, defaults) : undefined,
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
    const owner = ownerToGive(config.cloneDir);
    const files = assembleOutputs(contributions);
    writeOutputFiles(config.outputDir, files, owner);
    let excluded: string | undefined;
    try {
      excluded = excludeFromGit(cwd, config.outputDir, owner);
    } catch (error) {
      log.debug(`Could not add ${config.outputDirDisplay} to .git/info/exclude: ${(error as Error).message}`);
    }
    if (excluded) log.debug(`Added ${excluded} to .git/info/exclude.`);
    for (const glob of await exposed) {
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
    agents.destroy();
  }
}
