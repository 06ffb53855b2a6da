import type { AwsContext } from "./aws/clients.js";
import { assumeFromTokenFile } from "./aws/providers.js";
import { cancelledError } from "./aws/retry.js";
import { type AssumedRole, assumeRole, assumeWithWebIdentityInput } from "./aws/sts.js";
import type { Config } from "./config/parse.js";
import { VARIABLES } from "./config/variables.js";
import { chainRefusal, webIdentityRefusal } from "./diagnose.js";
import { amend, internalError, isPipeError, type PipeError } from "./errors.js";
import type { Log } from "./log.js";
import type { StepToken } from "./token.js";

/**
 * The assume stage: the main role (AWS_ROLE_ARN) with the step's token and, at the same time, every
 * AWS_PROFILES role with the same token; then, when AWS_CHAIN_ROLE_ARN is set, sts:AssumeRole into
 * it with the main role's credentials. Any refusal fails the whole run, naming the role refused.
 *
 * Session policies (AWS_SESSION_POLICY, AWS_SESSION_POLICY_ARNS) limit every set of credentials the
 * pipe hands out: the default ones (the chained role's, when chaining) and each profile's. The first
 * hop of a chain goes without: its keys never leave the pipe and only call sts:AssumeRole, which a
 * session policy written for the deployment would otherwise have to allow.
 */

/** One AWS_PROFILES entry, assumed: produced here, read by the proofs and the outputs. */
export interface NamedRole {
  name: string;
  role: AssumedRole;
}

/** What the assume stage hands on. */
export interface RoleSession {
  /** The role the step's token assumed (AWS_ROLE_ARN). */
  main: AssumedRole;
  /** AWS_CHAIN_ROLE_ARN's session, assumed with main's credentials. */
  chained: AssumedRole | undefined;
  /** AWS_PROFILES, in the order given. */
  profiles: NamedRole[];
  /** The default credentials: the chained role's when chaining, else the main role's. */
  defaults: AssumedRole;
}

/** AWS caps a session assumed with a role's credentials (role chaining) at one hour. */
export const CHAINED_MAX_SECONDS = 3600;

/** Prefixes a pipe error's message (e.g. a transient give-up) with the role it concerns. */
const about = (prefix: string, error: PipeError): PipeError =>
  amend(error, { message: `${prefix}: ${error.message}` });

export async function assumeRoles(
  outer: AwsContext,
  config: Config,
  token: StepToken,
  log: Log,
  /** The step's token, staged in OUTPUT_DIR: what the SDK's fromTokenFile reads. */
  tokenFile: string,
): Promise<RoleSession> {
  // The first failure stops every other call's retries: a refusal never waits for a sibling's
  // backoff, while answers already on their way still arrive (every refused role is listed).
  const stopRetries = new AbortController();
  const stopped = cancelledError();
  const ctx: AwsContext = { ...outer, retry: { ...outer.retry, stopRetrying: stopRetries.signal } };
  const stopOthers = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      if (!stopRetries.signal.aborted) stopRetries.abort(stopped);
      throw error;
    });
  const chainRoleArn = config.chainRoleArn;
  const policies = { policy: config.sessionPolicy, policyArns: config.sessionPolicyArns };
  // A chained session lasts an hour at most; the chain's first hop is asked for no longer, since
  // its keys serve only the AssumeRole call. Profiles are assumed directly: the full duration.
  const chainSeconds = Math.min(config.durationSeconds, CHAINED_MAX_SECONDS);
  const mainSeconds = chainRoleArn === undefined ? config.durationSeconds : chainSeconds;
  if (chainRoleArn !== undefined && config.durationSeconds > CHAINED_MAX_SECONDS) {
    log.warn(
      `${VARIABLES.duration} is ${config.durationSeconds}, but AWS limits a chained session (${VARIABLES.chainRoleArn}) to ${CHAINED_MAX_SECONDS} s: requesting ${CHAINED_MAX_SECONDS} s.`,
    );
  }
  // Every key is unprintable from the moment it arrives, before anything can log it.
  const keep = (role: AssumedRole): AssumedRole => {
    log.addSecret(role.credentials.secretAccessKey);
    log.addSecret(role.credentials.sessionToken);
    log.addSecret(role.credentials.accessKeyId);
    return role;
  };
  const withToken = async (
    context: AwsContext,
    roleArn: string,
    o: { label: string | undefined; durationSeconds: number; sessionPolicies: boolean },
  ): Promise<AssumedRole> => {
    // Through the SDK's fromTokenFile on the staged token file, with the role ARN and session name
    // `env` exports: the assume that proves the trust is the one a later SDK in the step makes.
    let assumed: AssumedRole | undefined;
    try {
      await assumeFromTokenFile(
        {
          tokenFile,
          roleArn,
          sessionName: config.sessionName,
          durationSeconds: o.durationSeconds,
          ...(o.sessionPolicies ? policies : {}),
        },
        async (input) => {
          const answer = await assumeWithWebIdentityInput(context, input);
          assumed = keep({
            roleArn,
            sessionName: config.sessionName,
            assumedRoleArn: answer.assumedRoleArn,
            credentials: answer.credentials,
          });
          return answer.credentials;
        },
      );
      if (assumed === undefined) throw internalError(`The SDK's fromTokenFile did not assume ${roleArn}.`);
      return assumed;
    } catch (error) {
      if (error === stopped) throw error;
      if (isPipeError(error)) throw o.label === undefined ? error : about(`For ${o.label} ${roleArn}`, error);
      throw webIdentityRefusal(error, token.claims, roleArn, o.label);
    }
  };

  log.info(
    `Assuming ${config.roleArn} with the step's OIDC token (session ${config.sessionName}, ${mainSeconds} s, ${config.region}).`,
  );
  if (config.profiles.length > 0) {
    log.info(
      `At the same time, for ${VARIABLES.profiles}: ${config.profiles.map((p) => `${p.name} (${p.roleArn})`).join(", ")}.`,
    );
  }

  const mainAndChain = async (): Promise<[AssumedRole, AssumedRole | undefined]> => {
    const main = await withToken(ctx, config.roleArn, {
      label: undefined,
      durationSeconds: mainSeconds,
      sessionPolicies: chainRoleArn === undefined,
    });
    // The default credentials' ARN is printed once, on the ✔ line; only a chain's first hop shows it here.
    log.info(
      chainRoleArn === undefined
        ? "Assumed: the role's trust policy admits this step."
        : `Assumed ${main.assumedRoleArn}: the role's trust policy admits this step.`,
    );
    if (chainRoleArn === undefined) return [main, undefined];
    log.info(
      `Chaining into ${chainRoleArn} with sts:AssumeRole (session ${main.sessionName}, ${chainSeconds} s${config.chainExternalId === undefined ? "" : ", with the external id"}).`,
    );
    let chained: AssumedRole;
    try {
      chained = keep(
        await assumeRole(ctx, main.credentials, {
          roleArn: chainRoleArn,
          sessionName: main.sessionName,
          durationSeconds: chainSeconds,
          externalId: config.chainExternalId,
          ...policies,
        }),
      );
    } catch (error) {
      if (error === stopped) throw error;
      if (isPipeError(error)) throw about(`For ${VARIABLES.chainRoleArn} ${chainRoleArn}`, error);
      throw chainRefusal(error, {
        chainRoleArn,
        externalId: config.chainExternalId !== undefined,
        firstRoleArn: main.roleArn,
        firstSessionArn: main.assumedRoleArn,
      });
    }
    log.info("Chained: the chained role trusts the first one.");
    return [main, chained];
  };

  const profileRole = (name: string, roleArn: string): Promise<AssumedRole> => {
    const context: AwsContext = { ...ctx, onRetry: (message) => ctx.onRetry(`Profile ${name}: ${message}`) };
    return withToken(context, roleArn, {
      label: `profile ${name}'s role`,
      durationSeconds: config.durationSeconds,
      sessionPolicies: true,
    });
  };

  // Settle every call before deciding: the failure reported is then always the first in the order
  // given (main, chain, profiles), and the others that failed are listed with it.
  const [first, ...rest] = await Promise.allSettled([
    stopOthers(mainAndChain()),
    ...config.profiles.map((p) => stopOthers(profileRole(p.name, p.roleArn))),
  ]);
  const failures = [first, ...rest]
    .filter((r): r is PromiseRejectedResult => r?.status === "rejected" && r.reason !== stopped)
    .map((r) => r.reason as unknown);
  const [failure, ...others] = failures;
  if (failure !== undefined) {
    if (others.length === 0 || !isPipeError(failure)) throw failure;
    throw amend(failure, {
      details: [
        ...failure.details,
        "Also failed:",
        ...others.map((other) => `  - ${other instanceof Error ? other.message : String(other)}`),
      ],
    });
  }
  const [main, chained] = (first as PromiseFulfilledResult<[AssumedRole, AssumedRole | undefined]>).value;
  const profiles = config.profiles.map((profile, i) => ({
    name: profile.name,
    role: (rest[i] as PromiseFulfilledResult<AssumedRole>).value,
  }));
  for (const { name, role } of profiles) {
    log.info(`Profile ${name}: assumed ${role.assumedRoleArn}.`);
  }
  return { main, chained, profiles, defaults: chained ?? main };
}
