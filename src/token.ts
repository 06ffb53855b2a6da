import { inputError } from "./errors.js";

export const TOKEN_VARIABLE = "BITBUCKET_STEP_OIDC_TOKEN";

/** The claims Bitbucket puts in a step's OIDC token. None of them is secret; the token is. */
export interface Claims {
  iss: string;
  aud: string | string[];
  sub: string;
  iat?: number;
  exp: number;
  workspaceUuid?: string;
  repositoryUuid?: string;
  pipelineUuid?: string;
  stepUuid?: string;
  deploymentEnvironmentUuid?: string;
  branchName?: string;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;

const malformed = (why: string) =>
  inputError(`${TOKEN_VARIABLE} is not a valid OIDC token: ${why}.`, {
    fix: "Use the token Bitbucket gives a step with `oidc: true`, unchanged (do not set it by hand).",
  });

/** 9999-12-31T23:59:59Z: the last second a Date prints as four-digit-year ISO 8601. */
const LAST_SECOND = 253_402_300_799;

/** A NumericDate (RFC 7519) the pipe can print and compare: a number of seconds from 1970 to 9999. */
const isSaneTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= LAST_SECOND;

/**
 * Reads the claims without verifying the signature: STS verifies it against the identity
 * provider, and a local check could only disagree with AWS, never overrule it.
 */
export function decodeClaims(token: string): Claims {
  const match = JWT_SHAPE.exec(token.trim());
  if (!match?.[1]) throw malformed("expected three base64url parts separated by dots");
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(match[1], "base64url").toString("utf8"));
  } catch {
    throw malformed("its payload is not JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw malformed("its payload is not a JSON object");
  }
  const claims = payload as Record<string, unknown>;
  const text = (name: string) => (typeof claims[name] === "string" ? (claims[name] as string) : undefined);
  const iss = text("iss");
  const sub = text("sub");
  const aud = claims.aud;
  const exp = claims.exp;
  if (!iss) throw malformed("the `iss` claim is missing");
  if (!sub) throw malformed("the `sub` claim is missing");
  const audOk =
    typeof aud === "string" ||
    (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === "string"));
  if (!audOk) throw malformed("the `aud` claim is missing");
  if (exp === undefined) throw malformed("the `exp` claim is missing");
  if (!isSaneTime(exp)) throw malformed("the `exp` claim is not a time in seconds between 1970 and 9999");
  if (claims.iat !== undefined && !isSaneTime(claims.iat)) {
    throw malformed("the `iat` claim is not a time in seconds between 1970 and 9999");
  }
  const result: Claims = { iss, sub, aud: aud as string | string[], exp };
  if (typeof claims.iat === "number") result.iat = claims.iat;
  for (const name of [
    "workspaceUuid",
    "repositoryUuid",
    "pipelineUuid",
    "stepUuid",
    "deploymentEnvironmentUuid",
    "branchName",
  ] as const) {
    const value = text(name);
    if (value !== undefined) result[name] = value;
  }
  return result;
}

/** Seconds of validity left at `nowMs`; negative when the token has expired. */
export const secondsLeft = (claims: Claims, nowMs: number): number => claims.exp - Math.floor(nowMs / 1000);

export interface StepToken {
  /** The raw token: secret, never logged. */
  readonly value: string;
  readonly claims: Claims;
}

function tokenFrom(env: NodeJS.ProcessEnv): string {
  const value = env[TOKEN_VARIABLE]?.trim();
  if (!value) {
    throw inputError(`${TOKEN_VARIABLE} is not set: this step has no OIDC token.`, {
      fix: "Add `oidc: true` to the step in bitbucket-pipelines.yml (self-hosted runners: pass the token in).",
    });
  }
  return value;
}

/**
 * Only the claims, whatever the expiry: `claims` and `template --from-token` describe the step,
 * and a token that has just expired describes it as well as a fresh one.
 */
export const readStepClaims = (env: NodeJS.ProcessEnv): Claims => decodeClaims(tokenFrom(env));

/** The token from the environment, decoded and checked for expiry. */
export function readStepToken(env: NodeJS.ProcessEnv, nowMs: number): StepToken {
  const value = tokenFrom(env);
  const claims = decodeClaims(value);
  const left = secondsLeft(claims, nowMs);
  if (left <= 0) {
    throw inputError(
      `${TOKEN_VARIABLE} expired at ${new Date(claims.exp * 1000).toISOString()} (${-left} s ago).`,
      {
        fix: "Run the pipe earlier in the step: a step's OIDC token is valid only for a limited time after the step starts.",
      },
    );
  }
  return { value, claims };
}

/** The first audience: the one Bitbucket sets (`ari:cloud:bitbucket::workspace/<uuid>`) unless the step asks for others. */
export const primaryAudience = (claims: Claims): string =>
  (Array.isArray(claims.aud) ? claims.aud[0] : claims.aud) ?? "";
