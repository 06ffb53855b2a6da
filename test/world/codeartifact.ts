/**
 * CodeArtifact, REST/JSON: GetAuthorizationToken and GetRepositoryEndpoint, the two calls a
 * login needs. Endpoints point under `registryBase`, where package registries can be mounted.
 */
import { authenticate, type Caller } from "./auth.ts";
import type { Iam } from "./iam.ts";
import * as ids from "./ids.ts";
import { recordIssued } from "./issued.ts";
import { type ApiCall, ApiError, jsonResult, type Reply, type Service, Validation } from "./wire.ts";

export interface Domain {
  domain: string;
  /** Account id. */
  owner: string;
  repositories: string[];
}

export interface IssuedToken {
  token: string;
  domain: string;
  owner: string;
  expiration: Date;
  /** The role whose session asked for it. */
  roleArn: string;
}

export interface CodeArtifactState {
  domains: Map<string, Domain>;
  issued: Map<string, IssuedToken>;
  issuedTokens: string[];
  deniedRoles: Set<string>;
  registryBase: string;
}

const FORMATS = ["npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"];
const DEFAULT_DURATION_SECONDS = 12 * 3600;
const domainKey = (domain: string, owner: string) => `${owner}/${domain}`;

/** Who holds a token, for registries that demand one; undefined when never issued or expired. */
export function tokenHolder(
  state: CodeArtifactState,
  token: string,
  now = Date.now(),
): IssuedToken | undefined {
  const issued = state.issued.get(token);
  return issued && issued.expiration.getTime() > now ? issued : undefined;
}

export function createCodeArtifact(iam: Iam, state: CodeArtifactState): Service {
  function domainOf(caller: Caller, params: Record<string, string>, action: string): Domain {
    const owner = params["domain-owner"] ?? caller.session.account;
    const name = params.domain ?? "";
    const resource = `arn:aws:codeartifact:${caller.region}:${owner}:domain/${name}`;
    if (state.deniedRoles.has(caller.session.roleArn)) {
      throw new ApiError(
        403,
        "AccessDeniedException",
        `User: ${caller.session.assumedRoleArn} is not authorized to perform: codeartifact:${action} on resource: ${resource}`,
      );
    }
    const domain = state.domains.get(domainKey(name, owner));
    if (!domain) {
      throw new ApiError(
        404,
        "ResourceNotFoundException",
        `Domain not found. Domain name: ${name}, Domain owner: ${owner}`,
        {
          resourceId: name,
          resourceType: "domain",
        },
      );
    }
    return domain;
  }

  function getAuthorizationToken(call: ApiCall, caller: Caller, v: Validation): Reply {
    const raw = call.params.duration;
    const duration = raw === "0" ? 0 : v.integer("durationSeconds", raw, 900, 43200);
    v.throwIfAny();
    const domain = domainOf(caller, call.params, call.action);
    // 0 = as long as the caller's session lasts; absent = CodeArtifact's own default of 12 hours.
    const expiration = new Date(
      duration === 0
        ? caller.session.expiration.getTime()
        : Math.floor(iam.clock.now() / 1000) * 1000 + (duration ?? DEFAULT_DURATION_SECONDS) * 1000,
    );
    const token = ids.bearerToken();
    state.issued.set(token, {
      token,
      domain: domain.domain,
      owner: domain.owner,
      expiration,
      roleArn: caller.session.roleArn,
    });
    state.issuedTokens.push(token);
    recordIssued("CodeArtifact token", token);
    return jsonResult(
      "rest-json",
      { authorizationToken: token, expiration: Math.floor(expiration.getTime() / 1000) },
      call.requestId,
    );
  }

  function getRepositoryEndpoint(call: ApiCall, caller: Caller, v: Validation): Reply {
    const { repository, format } = call.params;
    v.required("repository", repository);
    v.required("format", format);
    if (format !== undefined && !FORMATS.includes(format)) {
      v.fail("format", format, `satisfy enum value set: [${FORMATS.join(", ")}]`);
    }
    v.throwIfAny();
    const domain = domainOf(caller, call.params, call.action);
    if (!domain.repositories.includes(repository ?? "")) {
      throw new ApiError(
        404,
        "ResourceNotFoundException",
        `Repository not found. Repository name: ${repository}, Domain name: ${domain.domain}, Domain owner: ${domain.owner}`,
        { resourceId: repository ?? "", resourceType: "repository" },
      );
    }
    return jsonResult(
      "rest-json",
      {
        repositoryEndpoint: `${state.registryBase}${domain.domain}-${domain.owner}/${format}/${repository}/`,
      },
      call.requestId,
    );
  }

  const actions = new Map([
    ["GetAuthorizationToken", getAuthorizationToken],
    ["GetRepositoryEndpoint", getRepositoryEndpoint],
  ]);

  return {
    name: "codeartifact",
    protocol: "rest-json",
    route({ method, path, query }) {
      if (!path.startsWith("/v1/")) return undefined;
      const params = Object.fromEntries(new URLSearchParams(query));
      if (method === "POST" && path === "/v1/authorization-token")
        return { action: "GetAuthorizationToken", params };
      if (method === "GET" && path === "/v1/repository/endpoint")
        return { action: "GetRepositoryEndpoint", params };
      return { action: `${method} ${path}`, params };
    },
    async handle(call) {
      const action = actions.get(call.action);
      if (!action) throw new ApiError(404, "UnknownOperationException", `Unknown operation ${call.action}`);
      const caller = authenticate(call, "rest-json", iam.sessions, iam.clock.now());
      const v = new Validation("ValidationException");
      v.required("domain", call.params.domain);
      v.text("domain", call.params.domain, { min: 2, max: 50, pattern: /[a-z][a-z0-9-]{0,48}[a-z0-9]/ });
      v.text("domainOwner", call.params["domain-owner"], { pattern: /[0-9]{12}/ });
      return action(call, caller, v);
    },
  };
}

export function addDomain(state: CodeArtifactState, d: Domain): void {
  state.domains.set(domainKey(d.domain, d.owner), { ...d, repositories: [...d.repositories] });
}
