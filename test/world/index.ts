/**
 * The local AWS world the pipe's tests run against: a Bitbucket OIDC issuer and one endpoint that
 * answers STS, CodeArtifact and ECR the way AWS does, over real HTTP with real signatures.
 *
 *   const world = await startWorld();
 *   const roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID);
 *   const token = await world.issuer.token();
 *   // run the pipe with AWS_ENDPOINT_URL=world.endpoint, AWS_ROLE_ARN=roleArn, BITBUCKET_STEP_OIDC_TOKEN=token
 *   await world.close();
 */

import { WorldClock } from "./clock.ts";
import {
  addDomain,
  type CodeArtifactState,
  createCodeArtifact,
  type Domain,
  type IssuedToken,
  tokenHolder,
} from "./codeartifact.ts";
import { createEcr, type EcrState, type ProxyEndpoint, proxyEndpointFor } from "./ecr.ts";
import { type Fault, Faults, Throttle } from "./faults.ts";
import { DEFAULT_ACCOUNT, Iam, providerArn, type RoleDefinition, type Session } from "./iam.ts";
import { braced, type Issuer, type IssuerOptions, startIssuerHost } from "./issuer.ts";
import {
  type Controls,
  type RawHandler,
  REGISTRY_PREFIX,
  type RecordedRequest,
  startAwsServer,
} from "./server.ts";
import { createSts } from "./sts.ts";

export { DEFAULT_ACCOUNT } from "./iam.ts";
export type { TokenOptions } from "./issuer.ts";
export { DEFAULT_REPOSITORY_UUID, DEFAULT_WORKSPACE, DEFAULT_WORKSPACE_UUID } from "./issuer.ts";
export {
  PACKAGES,
  type Registries,
  type RegistryRequest,
  startRegistries,
  type Upload,
} from "./registries.ts";
export type {
  Domain,
  Fault,
  IssuedToken,
  Issuer,
  IssuerOptions,
  ProxyEndpoint,
  RawHandler,
  RecordedRequest,
  RoleDefinition,
  Session,
};

export const DEFAULT_ROLE_NAME = "bitbucket-pipelines-deploy";

export interface World {
  /** `http://127.0.0.1:<port>`: STS, CodeArtifact and ECR alike (give it to the pipe as AWS_ENDPOINT_URL). */
  endpoint: string;
  /** The default workspace's issuer; its provider is registered in DEFAULT_ACCOUNT. */
  issuer: Issuer;
  /** Another workspace's issuer (no provider registered for it). */
  addIssuer(o: IssuerOptions): Promise<Issuer>;
  /** `arn:aws:iam::<account>:oidc-provider/<hostPath>` */
  providerArn(issuer?: Issuer, account?: string): string;
  /** Registers an IAM OIDC provider; clientIds default to the issuer's audience. */
  addProvider(issuer: Issuer, opts?: { account?: string; clientIds?: string[] }): void;
  /** Adds (or replaces) a role; throws on a trust policy IAM would refuse. */
  addRole(role: RoleDefinition): void;
  /**
   * Trusts a repository's steps (or only its deployments to one environment): adds a statement to
   * the role (created if new; its account gets the issuer's provider if it has none) with
   * StringEquals `<hostPath>:aud` and StringLike `<hostPath>:sub` = `{repo}:*` / `{repo}:{env}:*`.
   * UUIDs may come without braces. Returns the role ARN.
   */
  allowRepository(
    repositoryUuid: string,
    opts?: { roleName?: string; account?: string; environmentUuid?: string; issuer?: Issuer },
  ): string;
  /** Every API call, in order of arrival (registry traffic is not recorded). */
  requests: RecordedRequest[];
  clearRequests(): void;
  /** Queues a fault; faults are consumed in the order queued, each by the calls it matches. */
  fault(f: Fault): void;
  clearFaults(): void;
  /**
   * AWS's and Bitbucket's clock against the real one (the pipe's): -20 minutes stands for a runner
   * whose clock is 20 minutes ahead. Answers are dated by it and signatures checked against it.
   */
  setClockOffset(ms: number): void;
  /** A fixed delay before every API answer. */
  setLatency(ms: number): void;
  /** The `aws:SourceIp` trust policies see; undefined: the socket's remote address. */
  setSourceIp(ip: string | undefined): void;
  /** Above N calls per rolling second to one service, answer its throttling error; undefined: no limit. */
  setThrottle(perSecond: number | undefined): void;
  /** The next N GetCallerIdentity calls answer 403 InvalidClientTokenId, like brand-new keys sometimes do. */
  failVerificationOnce(times?: number): void;
  codeartifact: {
    addDomain(d: Domain): void;
    /** Calls signed by sessions of this role answer 403 AccessDeniedException. */
    denyRole(roleArn: string): void;
    /** Every token handed out, in order. */
    issuedTokens: string[];
    /** `http://127.0.0.1:<port>/ca/`: repository endpoints are `<registryBase><domain>-<owner>/<format>/<repo>/`. */
    registryBase: string;
    /** Who a token was issued to, while it is valid: for registries that demand it. */
    tokenHolder(token: string): IssuedToken | undefined;
    /** Mounts the package registries: every request under registryBase goes to the handler. */
    serveRegistry(handler: RawHandler | undefined): void;
  };
  ecr: {
    /** The proxyEndpoint GetAuthorizationToken answers for an account. */
    proxyEndpoint(accountId: string, region?: string): string;
    /** Override it, e.g. with a local registry `http://127.0.0.1:<port>`; undefined restores AWS's. */
    setProxyEndpoint(endpoint: ProxyEndpoint | undefined): void;
    denyRole(roleArn: string): void;
    /** Every token handed out (the part after `AWS:`), in order. */
    issuedTokens: string[];
  };
  /** Access key id -> live session; mutate `expiration` to age one. */
  sessions: Map<string, Session>;
  close(): Promise<void>;
}

export async function startWorld(o: { issuer?: IssuerOptions; latencyMs?: number } = {}): Promise<World> {
  const clock = new WorldClock();
  const issuers = await startIssuerHost(clock);
  try {
    return await assemble(issuers, clock, o);
  } catch (error) {
    await issuers.close();
    throw error;
  }
}

async function assemble(
  issuers: Awaited<ReturnType<typeof startIssuerHost>>,
  clock: WorldClock,
  o: { issuer?: IssuerOptions; latencyMs?: number },
): Promise<World> {
  const defaultIssuer = await issuers.addIssuer(o.issuer);
  const iam = new Iam(clock);
  iam.addProvider(defaultIssuer);

  const faults = new Faults();
  const throttle = new Throttle();
  const requests: RecordedRequest[] = [];
  const controls: Controls = { latencyMs: o.latencyMs ?? 0, sourceIp: undefined, registry: undefined };
  const codeartifact: CodeArtifactState = {
    domains: new Map(),
    issued: new Map(),
    issuedTokens: [],
    deniedRoles: new Set(),
    registryBase: "", // known once the server listens, before any request
  };
  const ecr: EcrState = { issuedTokens: [], deniedRoles: new Set(), proxyEndpoint: undefined };
  const server = await startAwsServer({
    services: [createEcr(iam, ecr), createCodeArtifact(iam, codeartifact), createSts(iam)],
    faults,
    throttle,
    requests,
    controls,
    clock,
  });
  codeartifact.registryBase = `${server.url}${REGISTRY_PREFIX}`;

  const world: World = {
    endpoint: server.url,
    issuer: defaultIssuer,
    addIssuer: (options) => issuers.addIssuer(options),
    providerArn: (issuer = defaultIssuer, account = DEFAULT_ACCOUNT) => providerArn(issuer.hostPath, account),
    addProvider(issuer, opts = {}) {
      iam.addProvider(issuer, opts.account, opts.clientIds);
    },
    addRole(role) {
      iam.addRole(role);
    },
    allowRepository(repositoryUuid, opts = {}) {
      const issuer = opts.issuer ?? defaultIssuer;
      const account = opts.account ?? DEFAULT_ACCOUNT;
      const arn = `arn:aws:iam::${account}:role/${opts.roleName ?? DEFAULT_ROLE_NAME}`;
      const provider = providerArn(issuer.hostPath, account);
      if (!iam.providers.has(provider)) iam.addProvider(issuer, account);
      const sub =
        opts.environmentUuid === undefined
          ? `${braced(repositoryUuid)}:*`
          : `${braced(repositoryUuid)}:${braced(opts.environmentUuid)}:*`;
      const statement = {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${issuer.hostPath}:aud`]: issuer.audience },
          StringLike: { [`${issuer.hostPath}:sub`]: sub },
        },
      };
      const existing = iam.roles.get(arn);
      const previous = (existing?.trustPolicy as { Statement?: unknown } | undefined)?.Statement ?? [];
      iam.addRole({
        arn,
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [...(Array.isArray(previous) ? previous : [previous]), statement],
        },
        ...(existing ? { maxSessionDuration: existing.maxSessionDuration } : {}),
      });
      return arn;
    },
    requests,
    clearRequests() {
      requests.length = 0;
    },
    fault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    setClockOffset(ms) {
      clock.offsetMs = ms;
    },
    setLatency(ms) {
      controls.latencyMs = ms;
    },
    setSourceIp(ip) {
      controls.sourceIp = ip;
    },
    setThrottle: (perSecond) => throttle.set(perSecond),
    failVerificationOnce(times = 1) {
      faults.add({
        action: "GetCallerIdentity",
        times,
        status: 403,
        code: "InvalidClientTokenId",
        message: "The security token included in the request is invalid.",
      });
    },
    codeartifact: {
      addDomain: (d) => addDomain(codeartifact, d),
      denyRole(roleArn) {
        codeartifact.deniedRoles.add(roleArn);
      },
      issuedTokens: codeartifact.issuedTokens,
      registryBase: codeartifact.registryBase,
      tokenHolder: (token) => tokenHolder(codeartifact, token),
      serveRegistry(handler) {
        controls.registry = handler;
      },
    },
    ecr: {
      proxyEndpoint: (accountId, region = "ap-southeast-2") => proxyEndpointFor(ecr, accountId, region),
      setProxyEndpoint(endpoint) {
        ecr.proxyEndpoint = endpoint;
      },
      denyRole(roleArn) {
        ecr.deniedRoles.add(roleArn);
      },
      issuedTokens: ecr.issuedTokens,
    },
    sessions: iam.sessions,
    async close() {
      await Promise.all([server.close(), issuers.close()]);
    },
  };
  return world;
}
