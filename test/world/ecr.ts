/** Amazon ECR, JSON 1.1: GetAuthorizationToken, what `docker login` to ECR is built on. */
import { authenticate } from "./auth.ts";
import type { Iam } from "./iam.ts";
import * as ids from "./ids.ts";
import { recordIssued } from "./issued.ts";
import { ApiError, flatten, jsonResult, type Service } from "./wire.ts";

const TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921.";
/** ECR's tokens last 12 hours, whatever the caller's session. */
const TOKEN_LIFETIME_SECONDS = 12 * 3600;

export type ProxyEndpoint = string | ((accountId: string, region: string) => string);

export interface EcrState {
  issuedTokens: string[];
  deniedRoles: Set<string>;
  /** Undefined: the real `https://<account>.dkr.ecr.<region>.amazonaws.com`. */
  proxyEndpoint: ProxyEndpoint | undefined;
}

export function proxyEndpointFor(state: EcrState, accountId: string, region: string): string {
  const endpoint = state.proxyEndpoint;
  if (typeof endpoint === "function") return endpoint(accountId, region);
  return endpoint ?? `https://${accountId}.dkr.ecr.${region}.amazonaws.com`;
}

export function createEcr(iam: Iam, state: EcrState): Service {
  return {
    name: "ecr",
    protocol: "json-1.1",
    route({ method, headers, body }) {
      const target = headers["x-amz-target"];
      if (method !== "POST" || !target?.startsWith(TARGET_PREFIX)) return undefined;
      let input: unknown = {};
      try {
        input = body.length ? JSON.parse(body.toString("utf8")) : {};
      } catch {
        // Recorded as sent (no params); handle() answers the SerializationException.
      }
      return { action: target.slice(TARGET_PREFIX.length), params: flatten(input) };
    },
    async handle(call) {
      if (call.action !== "GetAuthorizationToken") {
        throw new ApiError(400, "UnknownOperationException", `Unknown operation ${call.action}`);
      }
      const { session, region } = authenticate(call, "json-1.1", iam.sessions, iam.clock.now());
      try {
        JSON.parse(call.signed.body.toString("utf8") || "{}");
      } catch {
        throw new ApiError(
          400,
          "SerializationException",
          "Start of structure or map found where not expected.",
        );
      }
      if (state.deniedRoles.has(session.roleArn)) {
        throw new ApiError(
          400,
          "AccessDeniedException",
          `User: ${session.assumedRoleArn} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action`,
        );
      }
      // The deprecated registryIds member still works: one entry per registry, else the caller's own.
      const requested = Object.entries(call.params)
        .filter(([key]) => /^registryIds\.\d+$/.test(key))
        .map(([, id]) => id);
      const bad = requested.find((id) => !/^\d{12}$/.test(id));
      if (bad !== undefined) {
        throw new ApiError(
          400,
          "InvalidParameterException",
          `Invalid parameter at 'registryIds' failed to satisfy constraint: 'must satisfy regular expression pattern: [0-9]{12}', got ${bad}`,
        );
      }
      const expiresAt = Math.floor(iam.clock.now() / 1000) + TOKEN_LIFETIME_SECONDS;
      const authorizationData = (requested.length ? requested : [session.account]).map((accountId) => {
        const token = ids.bearerToken();
        state.issuedTokens.push(token);
        recordIssued("ECR password", token);
        return {
          authorizationToken: Buffer.from(`AWS:${token}`).toString("base64"),
          expiresAt,
          proxyEndpoint: proxyEndpointFor(state, accountId, region),
        };
      });
      return jsonResult("json-1.1", { authorizationData }, call.requestId);
    },
  };
}
