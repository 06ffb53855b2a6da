/**
 * The world's STS (test/world/sts.ts), through the real @aws-sdk/client-sts over HTTP:
 * AssumeRoleWithWebIdentity and its refusals, signed calls, and AssumeRole for role chaining.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type Keys, keysOf, OTHER_REPO, PROD_ENV, REGION, useWorld } from "../support/worldClients.ts";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, type World } from "./index.ts";

let world: World;
let roleArn: string;
const { sts, assume, refusal, lastRecord } = useWorld((s) => ({ world, roleArn } = s));

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
