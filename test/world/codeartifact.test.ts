/**
 * The world's CodeArtifact (test/world/codeartifact.ts), through the real
 * @aws-sdk/client-codeartifact: tokens, repository endpoints, refusals and faults.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import {
  GetAuthorizationTokenCommand as CaTokenCommand,
  CodeartifactClient,
  GetRepositoryEndpointCommand,
} from "@aws-sdk/client-codeartifact";
import { beforeAll, describe, expect, it } from "vitest";
import { type Keys, keysOf, REGION, useWorld } from "../support/worldClients.ts";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, type World } from "./index.ts";

let world: World;
let roleArn: string;
const { assume, refusal, lastRecord } = useWorld((s) => ({ world, roleArn } = s));

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
