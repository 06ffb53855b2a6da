/**
 * STS, query protocol: AssumeRoleWithWebIdentity (unsigned), AssumeRole (role chaining) and
 * GetCallerIdentity (signed). Validation order and messages follow what STS answers.
 */
import { deflateRawSync } from "node:zlib";
import { authenticate } from "./auth.ts";
import { type Iam, parseRoleArn, type Role, type Session } from "./iam.ts";
import { verifyWebIdentity } from "./oidc.ts";
import { evaluate, type PolicyRequest } from "./policy.ts";
import { type ApiCall, ApiError, queryResult, type Reply, type Service, Validation } from "./wire.ts";

const VERSION = "2011-06-15";
const SESSION_NAME = /[\w+=,.@-]*/;
const EXTERNAL_ID = /[\w+=,.@:/-]*/;
const POLICY_TEXT = /[\t\n\r\u0020-\u00FF]+/;
/** Chained sessions (a role assuming a role) can't outlive an hour, whatever the role allows. */
const CHAINED_MAX_SECONDS = 3600;

interface AssumeInput {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  policy?: string;
  policyArns: string[];
}

/** Parameters both assume calls share, validated the way STS does (all failures in one message). */
function assumeInput(params: Record<string, string>, v: Validation): AssumeInput {
  const roleArn = params.RoleArn;
  const sessionName = params.RoleSessionName;
  v.required("roleArn", roleArn);
  v.text("roleArn", roleArn, { min: 20, max: 2048 });
  v.required("roleSessionName", sessionName);
  v.text("roleSessionName", sessionName, { min: 2, max: 64, pattern: SESSION_NAME });
  const duration = v.integer("durationSeconds", params.DurationSeconds, 900, 43200);
  v.text("policy", params.Policy, { min: 1, max: 2048, pattern: POLICY_TEXT });
  const policyArns = Object.keys(params)
    .map((key) => /^PolicyArns\.member\.(\d+)\.arn$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => params[m[0]] as string);
  if (policyArns.length > 10) v.fail("policyArns", undefined, "have length less than or equal to 10");
  for (const arn of policyArns) v.text("policyArns.member.arn", arn, { min: 20, max: 2048 });
  return {
    roleArn: roleArn ?? "",
    sessionName: sessionName ?? "",
    durationSeconds: duration ?? 3600,
    ...(params.Policy === undefined ? {} : { policy: params.Policy }),
    policyArns,
  };
}

/** Checks that need the request to be well-formed first: the ARN's shape and the session policy. */
function checkSemantics(input: AssumeInput, iam: Iam): Role | undefined {
  if (!parseRoleArn(input.roleArn)) throw new ApiError(400, "ValidationError", "Request ARN is invalid");
  if (input.policy !== undefined) {
    try {
      JSON.parse(input.policy);
    } catch {
      throw new ApiError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.");
    }
  }
  return iam.roles.get(input.roleArn);
}

/**
 * STS packs (compresses) session policies and policy ARNs into the session token and refuses past
 * its budget. The budget here is an approximation: deflated policy plus ARN text against 2,048 bytes.
 */
function packedPolicySize(input: AssumeInput): number | undefined {
  if (input.policy === undefined && input.policyArns.length === 0) return undefined;
  const bytes =
    (input.policy === undefined ? 0 : deflateRawSync(input.policy).length) +
    input.policyArns.reduce((sum, arn) => sum + arn.length, 0);
  const percent = Math.max(1, Math.ceil((bytes / 2048) * 100));
  if (percent > 100) {
    throw new ApiError(
      400,
      "PackedPolicyTooLarge",
      `Packed policy consumes ${percent}% of allotted space, please use smaller policy for assuming role.`,
    );
  }
  return percent;
}

function checkDuration(role: Role, durationSeconds: number): void {
  if (durationSeconds > role.maxSessionDuration) {
    throw new ApiError(
      400,
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }
}

const credentialsOf = (s: Session) => ({
  AccessKeyId: s.accessKeyId,
  SecretAccessKey: s.secretAccessKey,
  SessionToken: s.sessionToken,
  Expiration: s.expiration,
});

const assumedRoleUserOf = (s: Session) => ({ Arn: s.assumedRoleArn, AssumedRoleId: s.userId });

export function createSts(iam: Iam): Service {
  async function assumeRoleWithWebIdentity(call: ApiCall): Promise<Reply> {
    const v = new Validation("ValidationError");
    const input = assumeInput(call.params, v);
    const token = call.params.WebIdentityToken;
    v.required("webIdentityToken", token);
    v.text("webIdentityToken", token, { min: 4, max: 20000 });
    v.throwIfAny();
    const role = checkSemantics(input, iam);
    const roleAccount = parseRoleArn(input.roleArn)?.account ?? "";

    const identity = await verifyWebIdentity(token ?? "", roleAccount, iam, iam.clock.now());
    const denied = new ApiError(
      403,
      "AccessDenied",
      "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
    if (!role) throw new ApiError(403, denied.code, denied.message, {}, `no role ${input.roleArn}`);
    const host = identity.provider.hostPath;
    const request: PolicyRequest = {
      action: "sts:AssumeRoleWithWebIdentity",
      principal: { type: "Federated", ids: [identity.provider.arn] },
      context: {
        [`${host}:aud`]: identity.aud.length === 1 ? identity.aud[0] : identity.aud,
        [`${host}:sub`]: identity.sub,
        "aws:SourceIp": call.sourceIp,
        "aws:FederatedProvider": identity.provider.arn,
        "sts:RoleSessionName": input.sessionName,
      },
    };
    const decision = evaluate(role.statements, request);
    if (!decision.allowed) throw new ApiError(403, denied.code, denied.message, {}, decision.reason);
    checkDuration(role, input.durationSeconds);
    const packed = packedPolicySize(input);

    const session = iam.startSession(role, input);
    return queryResult(
      "AssumeRoleWithWebIdentity",
      {
        Credentials: credentialsOf(session),
        SubjectFromWebIdentityToken: identity.sub,
        AssumedRoleUser: assumedRoleUserOf(session),
        PackedPolicySize: packed,
        Provider: identity.provider.arn,
        Audience: identity.aud.find((a) => identity.provider.clientIds.includes(a)),
      },
      call.requestId,
    );
  }

  async function assumeRole(call: ApiCall): Promise<Reply> {
    const { session: caller } = authenticate(call, "query", iam.sessions, iam.clock.now());
    const v = new Validation("ValidationError");
    const input = assumeInput(call.params, v);
    const externalId = call.params.ExternalId;
    v.text("externalId", externalId, { min: 2, max: 1224, pattern: EXTERNAL_ID });
    v.throwIfAny();
    const role = checkSemantics(input, iam);

    const denied = (detail: string) =>
      new ApiError(
        403,
        "AccessDenied",
        `User: ${caller.assumedRoleArn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`,
        {},
        detail,
      );
    if (!role) throw denied(`no role ${input.roleArn}`);
    const callerPartition = parseRoleArn(caller.roleArn)?.partition ?? "aws";
    const decision = evaluate(role.statements, {
      action: "sts:AssumeRole",
      principal: {
        type: "AWS",
        ids: [caller.roleArn, caller.assumedRoleArn, `arn:${callerPartition}:iam::${caller.account}:root`],
      },
      context: {
        "aws:SourceIp": call.sourceIp,
        "aws:PrincipalArn": caller.roleArn,
        "aws:PrincipalAccount": caller.account,
        "sts:ExternalId": externalId,
        "sts:RoleSessionName": input.sessionName,
      },
    });
    if (!decision.allowed) throw denied(decision.reason);
    if (input.durationSeconds > CHAINED_MAX_SECONDS) {
      throw new ApiError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      );
    }
    checkDuration(role, input.durationSeconds);
    const packed = packedPolicySize(input);

    const session = iam.startSession(role, { ...input, chainedFrom: caller.accessKeyId });
    return queryResult(
      "AssumeRole",
      {
        Credentials: credentialsOf(session),
        AssumedRoleUser: assumedRoleUserOf(session),
        PackedPolicySize: packed,
      },
      call.requestId,
    );
  }

  function getCallerIdentity(call: ApiCall): Reply {
    const { session } = authenticate(call, "query", iam.sessions, iam.clock.now());
    return queryResult(
      "GetCallerIdentity",
      { UserId: session.userId, Account: session.account, Arn: session.assumedRoleArn },
      call.requestId,
    );
  }

  return {
    name: "sts",
    protocol: "query",
    route({ method, path, headers, body, query }) {
      // Any run of slashes: a custom endpoint may end in "/" or hold an empty segment ("//").
      if (!/^\/+$/.test(path) || (method !== "POST" && method !== "GET")) return undefined;
      // STS takes its parameters from the query string and, for POST, the form body alike.
      const params = Object.fromEntries(new URLSearchParams(query));
      if (
        method === "POST" &&
        (headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")
      ) {
        Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
      }
      return params.Action === undefined ? undefined : { action: params.Action, params };
    },
    async handle(call) {
      if (call.params.Version !== VERSION) {
        throw new ApiError(
          400,
          "InvalidAction",
          `Could not find operation ${call.action} for version ${call.params.Version ?? "NO_VERSION_SPECIFIED"}`,
        );
      }
      switch (call.action) {
        case "AssumeRoleWithWebIdentity":
          return assumeRoleWithWebIdentity(call);
        case "AssumeRole":
          return assumeRole(call);
        case "GetCallerIdentity":
          return getCallerIdentity(call);
        default:
          throw new ApiError(
            400,
            "InvalidAction",
            `Could not find operation ${call.action} for version ${VERSION}`,
          );
      }
    },
  };
}
