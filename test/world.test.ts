/**
 * The local AWS world, exercised the way the pipe uses it: the real AWS SDK v3 clients over real
 * HTTP, real RS256 tokens and real SigV4 signatures.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { createHash, createHmac } from "node:crypto";
import {
  GetAuthorizationTokenCommand as CaTokenCommand,
  CodeartifactClient,
  GetRepositoryEndpointCommand,
} from "@aws-sdk/client-codeartifact";
import { ECRClient, GetAuthorizationTokenCommand as EcrTokenCommand } from "@aws-sdk/client-ecr";
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type Credentials,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { SignatureV4 } from "@smithy/signature-v4";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, startWorld, type World } from "./world/index.ts";
import { evaluate, parsePolicy, wildcardMatch } from "./world/policy.ts";
import { parseAuthorization, type SignedRequest, verifySignature } from "./world/sigv4.ts";

const REGION = "ap-southeast-2";
const OTHER_REPO = "{99999999-8888-4777-8666-555555555555}";
const PROD_ENV = "{e0e0e0e0-1111-4222-8333-444444444444}";

let world: World;
let roleArn: string;

beforeAll(async () => {
  world = await startWorld();
  roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.clearRequests();
  world.clearFaults();
  world.setThrottle(undefined);
  world.setSourceIp(undefined);
  world.setLatency(0);
});

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken: string };
const keysOf = (c: Credentials | undefined): Keys => ({
  accessKeyId: c?.AccessKeyId ?? "",
  secretAccessKey: c?.SecretAccessKey ?? "",
  sessionToken: c?.SessionToken ?? "",
});

const sts = (credentials?: Keys, maxAttempts = 1) =>
  new STSClient({
    endpoint: world.endpoint,
    region: REGION,
    maxAttempts,
    ...(credentials ? { credentials } : {}),
  });

async function assume(input: Partial<AssumeRoleWithWebIdentityCommandInput> = {}, maxAttempts = 1) {
  return sts(undefined, maxAttempts).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: "bitbucket-world-1",
      WebIdentityToken: await world.issuer.token(),
      ...input,
    }),
  );
}

const lastRecord = () => world.requests.at(-1);

/**
 * The AWS error a (sequential) call rejects with: `name` as the SDK parsed it (modelled STS errors
 * get the SDK's shape name, e.g. InvalidIdentityTokenException), `code` as the world sent it.
 */
async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return {
      name: e.name,
      status: e.$metadata?.httpStatusCode,
      message: e.message,
      code: lastRecord()?.errorCode,
    };
  }
  throw new Error("expected the call to be refused, it succeeded");
}

describe("issuer", () => {
  it("issues RS256 tokens shaped like Bitbucket's, verifiable against the served JWKS", async () => {
    const token = await world.issuer.token({ branchName: "release/1.0" });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(world.issuer.jwksUrl)), {
      issuer: "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
      audience: "ari:cloud:bitbucket::workspace/11111111-2222-4333-8444-555555555555",
    });
    const braced = /^\{[0-9a-f-]{36}\}$/;
    expect(payload.workspaceUuid).toBe("{11111111-2222-4333-8444-555555555555}");
    expect(payload.repositoryUuid).toBe(DEFAULT_REPOSITORY_UUID);
    expect(payload.stepUuid).toMatch(braced);
    expect(payload.pipelineUuid).toMatch(braced);
    expect(payload.sub).toBe(`${DEFAULT_REPOSITORY_UUID}:${payload.stepUuid}`);
    expect(payload.branchName).toBe("release/1.0");
    expect(payload).not.toHaveProperty("deploymentEnvironmentUuid");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(world.issuer.hostPath).toBe(
      "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
    );
  });

  it("puts the environment in the middle of sub on deployment steps", async () => {
    const claims = decodeJwt(
      await world.issuer.token({ deploymentEnvironmentUuid: PROD_ENV, stepUuid: "{s}" }),
    );
    expect(claims.sub).toBe(`${DEFAULT_REPOSITORY_UUID}:${PROD_ENV}:{s}`);
    expect(claims.deploymentEnvironmentUuid).toBe(PROD_ENV);
  });

  it("serves a discovery document naming the real issuer and the local JWKS", async () => {
    const discovery = await (await fetch(world.issuer.discoveryUrl)).json();
    expect(discovery).toMatchObject({ issuer: world.issuer.url, jwks_uri: world.issuer.jwksUrl });
  });

  it("signs forged tokens with a key the JWKS does not have", async () => {
    const forged = await world.issuer.token({ signWithForeignKey: true });
    await expect(jwtVerify(forged, createRemoteJWKSet(new URL(world.issuer.jwksUrl)))).rejects.toThrow(
      /signature/,
    );
  });
});

describe("STS AssumeRoleWithWebIdentity", () => {
  it("answers a trusted step with credentials that GetCallerIdentity accepts", async () => {
    const out = await assume();
    const keys = keysOf(out.Credentials);
    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(keys.secretAccessKey).toHaveLength(40);
    expect(keys.sessionToken.length).toBeGreaterThan(300);
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 3590_000);
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${DEFAULT_ACCOUNT}:assumed-role/bitbucket-pipelines-deploy/bitbucket-world-1`,
    );
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:bitbucket-world-1$/);
    expect(out.SubjectFromWebIdentityToken).toMatch(new RegExp(`^${DEFAULT_REPOSITORY_UUID}:\\{`));
    expect(out.Provider).toBe(world.providerArn());
    expect(out.Audience).toBe(world.issuer.audience);

    const me = await sts(keys).send(new GetCallerIdentityCommand({}));
    expect(me).toMatchObject({
      Account: DEFAULT_ACCOUNT,
      Arn: out.AssumedRoleUser?.Arn,
      UserId: out.AssumedRoleUser?.AssumedRoleId,
    });

    const [assumeCall, whoami] = world.requests;
    expect(assumeCall).toMatchObject({ service: "sts", action: "AssumeRoleWithWebIdentity", status: 200 });
    expect(assumeCall?.accessKeyId).toBeUndefined();
    expect(assumeCall?.params.WebIdentityToken).toMatch(/^eyJ/);
    expect(whoami).toMatchObject({ action: "GetCallerIdentity", status: 200, accessKeyId: keys.accessKeyId });
    expect(world.sessions.get(keys.accessKeyId)?.roleArn).toBe(roleArn);
  });

  it("refuses another repository's step with AccessDenied", async () => {
    const token = await world.issuer.token({ repositoryUuid: OTHER_REPO });
    const e = await refusal(assume({ WebIdentityToken: token }));
    expect(e).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(e.message).toBe("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    expect(lastRecord()?.detail).toMatch(/StringLike .*:sub/);
  });

  it("refuses a token signed by a key outside the JWKS", async () => {
    const token = await world.issuer.token({ signWithForeignKey: true });
    expect(await refusal(assume({ WebIdentityToken: token }))).toMatchObject({
      name: "InvalidIdentityTokenException",
      code: "InvalidIdentityToken",
      status: 400,
    });
  });

  it("refuses an expired token with ExpiredTokenException", async () => {
    const token = await world.issuer.token({ expiresInSeconds: -30 });
    const e = await refusal(assume({ WebIdentityToken: token }));
    expect(e).toMatchObject({ name: "ExpiredTokenException", status: 400 });
    expect(e.message).toMatch(
      /^Token expired: current date\/time \d+ must be before the expiration date\/time\d+$/,
    );
  });

  it("refuses a token for an audience the provider does not list", async () => {
    const token = await world.issuer.token({ audience: "sts.amazonaws.com" });
    expect(await refusal(assume({ WebIdentityToken: token }))).toMatchObject({
      name: "InvalidIdentityTokenException",
      message: "Incorrect token audience",
    });
  });

  it("knows no provider for another workspace until one is registered, and then still denies", async () => {
    const other = await world.addIssuer({
      workspace: "globex",
      workspaceUuid: "22222222-3333-4444-8555-666666666666",
    });
    expect(other.audience).toBe("ari:cloud:bitbucket::workspace/22222222-3333-4444-8555-666666666666");
    const token = await other.token();
    expect(await refusal(assume({ WebIdentityToken: token }))).toMatchObject({
      name: "InvalidIdentityTokenException",
      message: `No OpenIDConnect provider found in your account for ${other.url}`,
    });
    world.addProvider(other);
    expect(await refusal(assume({ WebIdentityToken: await other.token() }))).toMatchObject({
      name: "AccessDenied",
    });
  });

  it("refuses a token claiming another workspace's issuer while signed with this one's key", async () => {
    const hooli = await world.addIssuer({
      workspace: "hooli",
      workspaceUuid: "{33333333-4444-4555-8666-777777777777}",
    });
    const hooliRole = world.allowRepository(DEFAULT_REPOSITORY_UUID, {
      roleName: "hooli-deploy",
      issuer: hooli,
    });
    await expect(
      assume({ RoleArn: hooliRole, WebIdentityToken: await hooli.token() }),
    ).resolves.toHaveProperty("Credentials");
    const forged = await world.issuer.token({ workspace: "hooli", workspaceUuid: hooli.workspaceUuid });
    expect(decodeJwt(forged)).toMatchObject({ iss: hooli.url, aud: hooli.audience });
    expect(await refusal(assume({ RoleArn: hooliRole, WebIdentityToken: forged }))).toMatchObject({
      name: "InvalidIdentityTokenException",
    });
  });

  it("limits a role to one deployment environment", async () => {
    const prodRole = world.allowRepository(DEFAULT_REPOSITORY_UUID.slice(1, -1), {
      roleName: "deploy-prod",
      environmentUuid: PROD_ENV,
    });
    const plain = await world.issuer.token();
    expect(await refusal(assume({ RoleArn: prodRole, WebIdentityToken: plain }))).toMatchObject({
      name: "AccessDenied",
    });
    const deployment = await world.issuer.token({ deploymentEnvironmentUuid: PROD_ENV });
    const out = await assume({ RoleArn: prodRole, WebIdentityToken: deployment });
    expect(out.AssumedRoleUser?.Arn).toContain(":assumed-role/deploy-prod/");
  });

  it("adds each allowed repository to the role's trust", async () => {
    const shared = world.allowRepository(OTHER_REPO, { roleName: "shared" });
    expect(world.allowRepository(DEFAULT_REPOSITORY_UUID, { roleName: "shared" })).toBe(shared);
    const other = await world.issuer.token({ repositoryUuid: OTHER_REPO });
    await expect(assume({ RoleArn: shared, WebIdentityToken: other })).resolves.toHaveProperty("Credentials");
    await expect(assume({ RoleArn: shared })).resolves.toHaveProperty("Credentials");
    const third = await world.issuer.token({ repositoryUuid: "{00000000-0000-4000-8000-000000000000}" });
    expect(await refusal(assume({ RoleArn: shared, WebIdentityToken: third }))).toMatchObject({
      name: "AccessDenied",
    });
  });

  it("answers AccessDenied for a role that does not exist, as STS does", async () => {
    const missing = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/nope`;
    expect(await refusal(assume({ RoleArn: missing }))).toMatchObject({ name: "AccessDenied", status: 403 });
  });

  it("validates duration, session name and session policy like STS", async () => {
    expect(await refusal(assume({ DurationSeconds: 7200 }))).toMatchObject({
      name: "ValidationError",
      message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    });
    expect(await refusal(assume({ DurationSeconds: 600 }))).toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("greater than or equal to 900"),
    });
    expect(await refusal(assume({ RoleSessionName: "has space" }))).toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("'roleSessionName' failed to satisfy constraint"),
    });
    expect(await refusal(assume({ Policy: "{not json" }))).toMatchObject({
      name: "MalformedPolicyDocumentException",
      code: "MalformedPolicyDocument",
      status: 400,
    });
  });

  it("records session policies and gives the longer sessions a role allows", async () => {
    const longRole = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/long`;
    world.addRole({
      arn: longRole,
      maxSessionDuration: 43200,
      trustPolicy: {
        Statement: [{ Effect: "Allow", Principal: { Federated: world.providerArn() }, Action: "sts:*" }],
      },
    });
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
    });
    const out = await assume({
      RoleArn: longRole,
      DurationSeconds: 43200,
      Policy: policy,
      PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
    });
    expect(out.PackedPolicySize).toBeGreaterThan(0);
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 43190_000);
    expect(lastRecord()?.params).toMatchObject({
      Policy: policy,
      "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
      DurationSeconds: "43200",
    });
    expect(world.sessions.get(out.Credentials?.AccessKeyId ?? "")?.policyArns).toEqual([
      "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]);
  });
});

describe("signed calls", () => {
  let keys: Keys;
  beforeAll(async () => {
    keys = keysOf((await assume()).Credentials);
  });

  it("refuses a wrong secret with SignatureDoesNotMatch", async () => {
    const wrong = {
      ...keys,
      secretAccessKey: `${keys.secretAccessKey.slice(0, -1)}${keys.secretAccessKey.endsWith("A") ? "B" : "A"}`,
    };
    expect(await refusal(sts(wrong).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
  });

  it("refuses unknown keys and keys without their session token with InvalidClientTokenId", async () => {
    const unknown = { ...keys, accessKeyId: "ASIAAAAAAAAAAAAAAAAA" };
    expect(await refusal(sts(unknown).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "InvalidClientTokenId",
      status: 403,
    });
    const noToken = { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey };
    const client = new STSClient({
      endpoint: world.endpoint,
      region: REGION,
      maxAttempts: 1,
      credentials: noToken,
    });
    expect(await refusal(client.send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "InvalidClientTokenId",
    });
  });

  it("refuses an expired session with ExpiredToken", async () => {
    const fresh = keysOf((await assume()).Credentials);
    const session = world.sessions.get(fresh.accessKeyId);
    if (!session) throw new Error("session not stored");
    session.expiration = new Date(Date.now() - 1000);
    expect(await refusal(sts(fresh).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "ExpiredToken",
      status: 400,
    });
  });

  it("fails verification for N calls on demand, then succeeds", async () => {
    world.failVerificationOnce(2);
    expect(await refusal(sts(keys).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "InvalidClientTokenId",
    });
    expect(await refusal(sts(keys).send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "InvalidClientTokenId",
    });
    await expect(sts(keys).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: DEFAULT_ACCOUNT,
    });
  });
});

describe("SigV4 verifier", () => {
  // A hash class over node:crypto in the shape @smithy/signature-v4 wants.
  type Data = string | ArrayBuffer | ArrayBufferView;
  const bytes = (d: Data) =>
    typeof d === "string"
      ? d
      : ArrayBuffer.isView(d)
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
        : new Uint8Array(d);
  class NodeSha256 {
    private readonly hash;
    constructor(secret?: Data) {
      this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
    }
    update(data: Data) {
      this.hash.update(bytes(data));
    }
    async digest() {
      return new Uint8Array(this.hash.digest());
    }
  }
  const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  /** Signs with the SDK's own signer, then hands our verifier what the wire would carry. */
  async function signedBySdk(body: string): Promise<SignedRequest> {
    const signer = new SignatureV4({
      service: "codeartifact",
      region: REGION,
      credentials: { accessKeyId: "ASIAEXAMPLEEXAMPLE00", secretAccessKey: secret, sessionToken: "tok/en+=" },
      sha256: NodeSha256,
    });
    const query = { domain: "acme", "domain-owner": "111111111111", q: ["b c", "a~*"], "ü/x": "1+1=2" };
    const request = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8080,
      path: "/v1/some%20thing/caf%C3%A9",
      query,
      headers: { host: "127.0.0.1:8080", "content-type": "application/json", "x-custom": "  a   b  " },
      body,
    });
    const wireQuery = Object.entries(query)
      .flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((item) => `${encodeURIComponent(k)}=${encodeURIComponent(item)}`),
      )
      .join("&");
    return {
      method: request.method,
      path: request.path,
      query: wireQuery,
      rawHeaders: Object.entries(request.headers).flat(),
      body: Buffer.from(body),
    };
  }

  it("accepts what the SDK's signer signs, tricky path, query and headers included", async () => {
    const request = await signedBySdk('{"a":1}');
    const auth = parseAuthorization(request.rawHeaders[request.rawHeaders.indexOf("authorization") + 1]);
    if (typeof auth !== "object") throw new Error("no Authorization header");
    expect(verifySignature(request, auth, secret, "codeartifact")).toEqual({ ok: true });
  });

  it("rejects a changed body, a wrong service scope and a stale clock", async () => {
    const request = await signedBySdk('{"a":1}');
    const auth = parseAuthorization(request.rawHeaders[request.rawHeaders.indexOf("authorization") + 1]);
    if (typeof auth !== "object") throw new Error("no Authorization header");
    expect(
      verifySignature({ ...request, body: Buffer.from('{"a":2}') }, auth, secret, "codeartifact"),
    ).toMatchObject({
      ok: false,
      reason: "signature",
    });
    expect(verifySignature(request, auth, secret, "sts")).toMatchObject({ ok: false, reason: "signature" });
    expect(verifySignature(request, auth, secret, "codeartifact", Date.now() + 10 * 60_000)).toMatchObject({
      ok: false,
      reason: "skew",
    });
  });
});

describe("faults, latency and throttling", () => {
  it("injects a 503 once: visible with one attempt, then the next call succeeds", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", status: 503 });
    expect(await refusal(assume())).toMatchObject({ name: "ServiceUnavailable", status: 503 });
    await expect(assume()).resolves.toHaveProperty("Credentials");
    expect(world.requests.map((r) => r.status)).toEqual([503, 200]);
  });

  it("lets the SDK's own retry get past a single fault", async () => {
    world.fault({ action: "sts:AssumeRoleWithWebIdentity", status: 500 });
    const out = await assume({}, 2);
    expect(out.$metadata.attempts).toBe(2);
    expect(world.requests.map((r) => [r.status, r.errorCode])).toEqual([
      [500, "InternalFailure"],
      [200, undefined],
    ]);
  });

  it("matches faults by action and consumes them in order", async () => {
    world.fault({ action: "GetCallerIdentity", code: "Throttling" });
    world.fault({ action: "*", code: "IDPCommunicationError", times: 2 });
    expect(await refusal(assume())).toMatchObject({ name: "IDPCommunicationErrorException", status: 400 });
    expect(await refusal(assume())).toMatchObject({ name: "IDPCommunicationErrorException" });
    await expect(assume()).resolves.toHaveProperty("Credentials");
  });

  it("drops the connection, or answers a broken body", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", drop: true });
    const dropped = await refusal(assume());
    expect(dropped.status).toBeUndefined();
    expect(dropped.message).toMatch(/socket hang up|ECONNRESET/);
    world.fault({ action: "AssumeRoleWithWebIdentity", malformed: true });
    const broken = await refusal(assume());
    expect(broken.status).toBe(200);
    expect(world.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it("delays answers by the latency and by a delay-only fault", async () => {
    world.setLatency(150);
    world.fault({ action: "AssumeRoleWithWebIdentity", delayMs: 150 });
    const started = Date.now();
    await assume();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("throttles above N STS calls per rolling second", async () => {
    world.setThrottle(2);
    const token = await world.issuer.token();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => assume({ WebIdentityToken: token })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.map((r) => [r.reason.name, r.reason.message, r.reason.$metadata.httpStatusCode])).toEqual(
      Array(3).fill(["Throttling", "Rate exceeded", 400]),
    );
    await new Promise((resolve) => setTimeout(resolve, 1050));
    await expect(assume({ WebIdentityToken: token })).resolves.toHaveProperty("Credentials");
  });
});

describe("trust policy conditions", () => {
  const ipRole = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/from-office`;
  beforeAll(() => {
    const host = world.issuer.hostPath;
    world.addRole({
      arn: ipRole,
      trustPolicy: {
        Version: "2012-10-17",
        Statement: {
          Effect: "Allow",
          Principal: { Federated: world.providerArn() },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${host}:aud`]: world.issuer.audience },
            StringLike: { [`${host}:sub`]: `${DEFAULT_REPOSITORY_UUID}:*` },
            IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32", "127.0.0.0/8"] },
          },
        },
      },
    });
  });

  it("admits only listed source addresses (IPv4 and IPv6)", async () => {
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials"); // the socket's 127.0.0.1
    world.setSourceIp("203.0.113.7");
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials");
    world.setSourceIp("2001:db8:1::5");
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials");
    world.setSourceIp("198.51.100.1");
    expect(await refusal(assume({ RoleArn: ipRole }))).toMatchObject({ name: "AccessDenied" });
    expect(lastRecord()?.detail).toMatch(/IpAddress aws:sourceip/);
  });

  const request = (context: Record<string, string | string[]>) => ({
    action: "sts:AssumeRoleWithWebIdentity",
    principal: { type: "Federated", ids: ["arn:aws:iam::1:oidc-provider/x"] },
    context,
  });
  const statement = (condition: object, effect = "Allow") => ({
    Effect: effect,
    Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: condition,
  });
  const allows = (condition: object, context: Record<string, string | string[]>) =>
    evaluate(parsePolicy({ Statement: [statement(condition)] }), request(context)).allowed;

  it("implements IAM wildcards and the negated operators", () => {
    expect(wildcardMatch("{r}:*", "{r}:{e}:{s}")).toBe(true);
    expect(wildcardMatch("a?c", "abc")).toBe(true);
    expect(wildcardMatch("a?c", "ac")).toBe(false);
    expect(wildcardMatch("a.c", "abc")).toBe(false);
    expect(allows({ StringNotEquals: { "x:sub": "bad" } }, { "x:sub": "good" })).toBe(true);
    expect(allows({ StringNotEquals: { "x:sub": "bad" } }, { "x:sub": "bad" })).toBe(false);
    expect(allows({ StringNotLike: { "x:sub": "{r}:{prod}:*" } }, { "x:sub": "{r}:{prod}:{s}" })).toBe(false);
    expect(allows({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }, { "aws:SourceIp": "10.1.2.3" })).toBe(
      false,
    );
    // Condition keys are case-insensitive, values are not.
    expect(allows({ StringEquals: { "X:SUB": "v" } }, { "x:sub": "v" })).toBe(true);
    expect(allows({ StringEquals: { "x:sub": "V" } }, { "x:sub": "v" })).toBe(false);
  });

  it("treats missing keys, IfExists and multi-valued keys as IAM does", () => {
    expect(allows({ StringEquals: { "x:aud": "a" } }, {})).toBe(false);
    expect(allows({ StringNotEquals: { "x:aud": "a" } }, {})).toBe(true);
    expect(allows({ StringEqualsIfExists: { "x:aud": "a" } }, {})).toBe(true);
    expect(allows({ "ForAnyValue:StringLike": { "x:aud": "ari:*" } }, { "x:aud": ["sts", "ari:x"] })).toBe(
      true,
    );
    expect(allows({ "ForAllValues:StringLike": { "x:aud": "ari:*" } }, { "x:aud": ["sts", "ari:x"] })).toBe(
      false,
    );
  });

  it("lets an explicit Deny win and rejects policies IAM would not store", () => {
    const statements = parsePolicy({
      Statement: [statement({}), statement({ StringLike: { "x:sub": "*:{prod}:*" } }, "Deny")],
    });
    expect(evaluate(statements, request({ "x:sub": "{r}:{s}" })).allowed).toBe(true);
    expect(evaluate(statements, request({ "x:sub": "{r}:{prod}:{s}" }))).toMatchObject({ allowed: false });
    expect(() => parsePolicy({ Statement: [statement({ StringEqualz: { k: "v" } })] })).toThrow(
      /StringEqualz/,
    );
    expect(() =>
      parsePolicy({ Statement: [statement({ IpAddress: { "aws:SourceIp": "10.0.0.0/33" } })] }),
    ).toThrow(/CIDR/);
    expect(() => world.addRole({ arn: "arn:aws:iam::1:role/x", trustPolicy: { Statement: [] } })).toThrow(
      /role ARN/,
    );
  });
});

describe("STS AssumeRole (role chaining)", () => {
  const target = "arn:aws:iam::222222222222:role/cross-account-deploy";
  let first: Keys;
  beforeAll(async () => {
    world.addRole({
      arn: target,
      trustPolicy: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: roleArn },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:ExternalId": "ext-123" } },
          },
        ],
      },
    });
    first = keysOf((await assume()).Credentials);
  });

  it("chains into another account's role that trusts the caller's role", async () => {
    const out = await sts(first).send(
      new AssumeRoleCommand({ RoleArn: target, RoleSessionName: "chained", ExternalId: "ext-123" }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe(
      "arn:aws:sts::222222222222:assumed-role/cross-account-deploy/chained",
    );
    const me = await sts(keysOf(out.Credentials)).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe("222222222222");
    expect(world.sessions.get(out.Credentials?.AccessKeyId ?? "")?.chainedFrom).toBe(first.accessKeyId);
  });

  it("refuses without the external id, and past the one-hour chaining limit", async () => {
    const e = await refusal(
      sts(first).send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: "chained" })),
    );
    expect(e).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(e.message).toContain("is not authorized to perform: sts:AssumeRole on resource");
    expect(
      await refusal(
        sts(first).send(
          new AssumeRoleCommand({
            RoleArn: target,
            RoleSessionName: "cc",
            ExternalId: "ext-123",
            DurationSeconds: 7200,
          }),
        ),
      ),
    ).toMatchObject({ name: "ValidationError", message: expect.stringContaining("role chaining") });
  });

  it("trusts account roots, and refuses unsigned calls", async () => {
    const rootTrusted = "arn:aws:iam::111111111111:role/any-in-account";
    world.addRole({
      arn: rootTrusted,
      trustPolicy: {
        Statement: { Effect: "Allow", Principal: { AWS: "111111111111" }, Action: "sts:AssumeRole" },
      },
    });
    await expect(
      sts(first).send(new AssumeRoleCommand({ RoleArn: rootTrusted, RoleSessionName: "root" })),
    ).resolves.toHaveProperty("Credentials");
    const unsigned = await fetch(world.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(rootTrusted)}&RoleSessionName=x1`,
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain("<Code>MissingAuthenticationToken</Code>");
  });
});

describe("CodeArtifact", () => {
  let keys: Keys;
  const ca = (credentials: Keys) =>
    new CodeartifactClient({ endpoint: world.endpoint, region: REGION, maxAttempts: 1, credentials });
  beforeAll(async () => {
    world.codeartifact.addDomain({
      domain: "acme",
      owner: DEFAULT_ACCOUNT,
      repositories: ["npm-store", "pypi-store"],
    });
    keys = keysOf((await assume()).Credentials);
  });

  it("issues a token for the session's lifetime and answers repository endpoints", async () => {
    const token = await ca(keys).send(
      new CaTokenCommand({ domain: "acme", domainOwner: DEFAULT_ACCOUNT, durationSeconds: 0 }),
    );
    expect(world.codeartifact.issuedTokens).toContain(token.authorizationToken);
    expect(token.expiration?.getTime()).toBe(world.sessions.get(keys.accessKeyId)?.expiration.getTime());
    expect(world.codeartifact.tokenHolder(token.authorizationToken ?? "")).toMatchObject({
      domain: "acme",
      roleArn,
    });
    expect(lastRecord()).toMatchObject({
      service: "codeartifact",
      action: "GetAuthorizationToken",
      params: { domain: "acme", "domain-owner": DEFAULT_ACCOUNT, duration: "0" },
    });

    const endpoint = await ca(keys).send(
      new GetRepositoryEndpointCommand({ domain: "acme", repository: "npm-store", format: "npm" }),
    );
    expect(endpoint.repositoryEndpoint).toBe(
      `${world.codeartifact.registryBase}acme-${DEFAULT_ACCOUNT}/npm/npm-store/`,
    );
    expect(world.codeartifact.registryBase).toBe(`${world.endpoint}/ca/`);
  });

  it("gives 12-hour tokens by default and validates the duration", async () => {
    const token = await ca(keys).send(new CaTokenCommand({ domain: "acme" }));
    expect(token.expiration?.getTime()).toBeGreaterThan(Date.now() + 11.9 * 3600_000);
    expect(
      await refusal(ca(keys).send(new CaTokenCommand({ domain: "acme", durationSeconds: 100 }))),
    ).toMatchObject({
      name: "ValidationException",
      status: 400,
    });
  });

  it("answers ResourceNotFoundException for unknown domains and repositories", async () => {
    expect(
      await refusal(ca(keys).send(new CaTokenCommand({ domain: "nope", durationSeconds: 0 }))),
    ).toMatchObject({
      name: "ResourceNotFoundException",
      status: 404,
    });
    expect(
      await refusal(
        ca(keys).send(new GetRepositoryEndpointCommand({ domain: "acme", repository: "x", format: "pypi" })),
      ),
    ).toMatchObject({ name: "ResourceNotFoundException", status: 404 });
  });

  it("denies roles the test marks as denied, and bad signatures", async () => {
    const denied = world.allowRepository(DEFAULT_REPOSITORY_UUID, { roleName: "no-codeartifact" });
    world.codeartifact.denyRole(denied);
    const deniedKeys = keysOf((await assume({ RoleArn: denied })).Credentials);
    expect(await refusal(ca(deniedKeys).send(new CaTokenCommand({ domain: "acme" })))).toMatchObject({
      name: "AccessDeniedException",
      status: 403,
    });
    const wrong = { ...keys, secretAccessKey: "x".repeat(40) };
    expect(await refusal(ca(wrong).send(new CaTokenCommand({ domain: "acme" })))).toMatchObject({
      name: "InvalidSignatureException",
      status: 403,
    });
  });

  it("takes faults for all of CodeArtifact's calls", async () => {
    world.fault({ action: "codeartifact:*", status: 500, times: 2 });
    expect(await refusal(ca(keys).send(new CaTokenCommand({ domain: "acme" })))).toMatchObject({
      status: 500,
    });
    expect(
      await refusal(
        ca(keys).send(new GetRepositoryEndpointCommand({ domain: "acme", repository: "x", format: "npm" })),
      ),
    ).toMatchObject({ status: 500, code: "InternalFailure" });
    await expect(ca(keys).send(new CaTokenCommand({ domain: "acme" }))).resolves.toHaveProperty(
      "authorizationToken",
    );
  });

  it("leaves registryBase to mounted registries", async () => {
    expect(
      (await fetch(`${world.codeartifact.registryBase}acme-${DEFAULT_ACCOUNT}/npm/npm-store/x`)).status,
    ).toBe(404);
    world.codeartifact.serveRegistry((_req, res) => {
      res.writeHead(200).end("registry");
    });
    try {
      expect(await (await fetch(`${world.codeartifact.registryBase}anything`)).text()).toBe("registry");
    } finally {
      world.codeartifact.serveRegistry(undefined);
    }
  });
});

describe("ECR", () => {
  let keys: Keys;
  const ecr = (credentials: Keys) =>
    new ECRClient({ endpoint: world.endpoint, region: REGION, maxAttempts: 1, credentials });
  beforeAll(async () => {
    keys = keysOf((await assume()).Credentials);
  });

  it("answers a Docker login token for the caller's registry", async () => {
    const out = await ecr(keys).send(new EcrTokenCommand({}));
    const [data] = out.authorizationData ?? [];
    const decoded = Buffer.from(data?.authorizationToken ?? "", "base64").toString();
    expect(decoded.startsWith("AWS:")).toBe(true);
    expect(world.ecr.issuedTokens).toContain(decoded.slice(4));
    expect(data?.proxyEndpoint).toBe(`https://${DEFAULT_ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);
    expect(data?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 11.9 * 3600_000);
    expect(lastRecord()).toMatchObject({
      service: "ecr",
      action: "GetAuthorizationToken",
      accessKeyId: keys.accessKeyId,
    });
  });

  it("answers per registry id, with an overridable proxy endpoint", async () => {
    world.ecr.setProxyEndpoint((account) => `http://127.0.0.1:5000/${account}`);
    try {
      const out = await ecr(keys).send(
        new EcrTokenCommand({ registryIds: ["111111111111", "222222222222"] }),
      );
      expect(out.authorizationData?.map((d) => d.proxyEndpoint)).toEqual([
        "http://127.0.0.1:5000/111111111111",
        "http://127.0.0.1:5000/222222222222",
      ]);
      expect(lastRecord()?.params).toEqual({
        "registryIds.0": "111111111111",
        "registryIds.1": "222222222222",
      });
    } finally {
      world.ecr.setProxyEndpoint(undefined);
    }
    expect(world.ecr.proxyEndpoint("333333333333")).toBe(
      `https://333333333333.dkr.ecr.${REGION}.amazonaws.com`,
    );
  });

  it("takes faults and denials in ECR's own error format", async () => {
    world.fault({ action: "ecr:GetAuthorizationToken", status: 500 });
    expect(await refusal(ecr(keys).send(new EcrTokenCommand({})))).toMatchObject({
      name: "InternalFailure",
      status: 500,
    });
    const denied = world.allowRepository(DEFAULT_REPOSITORY_UUID, { roleName: "no-ecr" });
    world.ecr.denyRole(denied);
    const deniedKeys = keysOf((await assume({ RoleArn: denied })).Credentials);
    expect(await refusal(ecr(deniedKeys).send(new EcrTokenCommand({})))).toMatchObject({
      name: "AccessDeniedException",
    });
  });
});

describe("lifecycle", () => {
  it("closes both servers", async () => {
    const other = await startWorld({ issuer: { workspace: "initech" } });
    const { endpoint, issuer } = other;
    expect((await fetch(issuer.jwksUrl)).status).toBe(200);
    await other.close();
    await expect(fetch(endpoint)).rejects.toThrow();
    await expect(fetch(issuer.jwksUrl)).rejects.toThrow();
  });
});
