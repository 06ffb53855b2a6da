import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsContext, Credentials } from "../../../src/aws/clients.ts";
import { assumeWithWebIdentityInput } from "../../../src/aws/sts.ts";
import { isPipeError, type PipeError, transientError } from "../../../src/errors.ts";
import { codeArtifactCalls, explainRefusal } from "../../../src/features/codeartifact/api.ts";
import { awsContext } from "../../support/awsContext.ts";
import { DEFAULT_REPOSITORY_UUID, startWorld, type World } from "../../world/index.ts";

/**
 * CodeArtifact's two calls (src/features/codeartifact/api.ts) against the local AWS world: the
 * token, each repository endpoint, both checked for shape before anything is written, and
 * refusals turned into the diagnosis (its text: test/diagnose.test.ts).
 */

let world: World;
let ctx: AwsContext & { done(): void };
let credentials: Credentials;
const target = { domain: "acme", repository: "npm-store", owner: "111111111111", region: "ap-southeast-2" };

beforeAll(async () => {
  world = await startWorld();
  const roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID);
  world.codeartifact.addDomain({ domain: "acme", owner: "111111111111", repositories: ["npm-store"] });
  ctx = await awsContext(world.endpoint);
  ({ credentials } = await assumeWithWebIdentityInput(ctx, {
    RoleArn: roleArn,
    RoleSessionName: "s1",
    WebIdentityToken: await world.issuer.token(),
    DurationSeconds: 3600,
  }));
});
afterAll(async () => {
  ctx?.done();
  await world?.close();
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as PipeError,
  );

describe("codeArtifactCalls", () => {
  it("authorizationToken: the token (seen first by onToken), its expiry, the duration always sent", async () => {
    world.clearRequests();
    const seen: string[] = [];
    const answer = await codeArtifactCalls(ctx, credentials).authorizationToken(target, 0, (t) =>
      seen.push(t),
    );
    expect(seen).toEqual([answer.token]);
    expect(world.codeartifact.issuedTokens).toContain(answer.token);
    expect(answer.expiration?.getTime()).toBeGreaterThan(Date.now());
    expect(world.requests[0]?.params).toMatchObject({
      domain: "acme",
      "domain-owner": "111111111111",
      duration: "0",
    });
  });

  it("repositoryEndpoint: the endpoint for the format, with its trailing slash", async () => {
    const endpoint = await codeArtifactCalls(ctx, credentials).repositoryEndpoint(target, "npm");
    expect(endpoint).toBe(`${world.codeartifact.registryBase}acme-111111111111/npm/npm-store/`);
  });

  it("a token or an endpoint of another shape is an unexpected answer, the token still made a secret", async () => {
    world.fault({
      action: "codeartifact:GetAuthorizationToken",
      rewrite: (body) =>
        body.replace(/"authorizationToken":"[^"]*"/, '"authorizationToken":"has space \\"quote"'),
    });
    const seen: string[] = [];
    const token = await failure(
      codeArtifactCalls(ctx, credentials).authorizationToken(target, 0, (t) => seen.push(t)),
    );
    expect(token.message).toMatch(/unexpected answer from CodeArtifact: authorizationToken/);
    expect(seen).toEqual(['has space "quote']);
    world.fault({
      action: "codeartifact:GetRepositoryEndpoint",
      rewrite: (body) =>
        body.replace(/"repositoryEndpoint":"[^"]*"/, '"repositoryEndpoint":"http://evil.example/"'),
    });
    const endpoint = await failure(codeArtifactCalls(ctx, credentials).repositoryEndpoint(target, "npm"));
    expect(endpoint.message).toMatch(/unexpected answer from CodeArtifact: repositoryEndpoint \(npm\)/);
  });
});

describe("explainRefusal", () => {
  it("turns AWS's refusal into the diagnosis, naming the call", async () => {
    const missing = { ...target, repository: "nope" };
    const error = await failure(
      codeArtifactCalls(ctx, credentials)
        .repositoryEndpoint(missing, "pypi")
        .catch(explainRefusal("codeartifact:GetRepositoryEndpoint (pypi)", missing, "111111111111")),
    );
    expect(error.kind).toBe("refused");
    expect(error.message).toMatch(
      /^AWS refused codeartifact:GetRepositoryEndpoint \(pypi\) for the domain acme/,
    );
    expect(error.fix).toMatch(/^Check CODEARTIFACT_DOMAIN/);
  });

  it("lets the pipe's own errors through as they are", () => {
    const ours = transientError("gave up");
    let thrown: unknown;
    try {
      explainRefusal("codeartifact:GetAuthorizationToken", target, "")(ours);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(ours);
    expect(isPipeError(thrown)).toBe(true);
  });
});
