/**
 * The world's OIDC issuer (test/world/issuer.ts): RS256 tokens shaped like Bitbucket's, a JWKS
 * and a discovery document.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { PROD_ENV, useWorld } from "../support/worldClients.ts";
import { DEFAULT_REPOSITORY_UUID, type World } from "./index.ts";

let world: World;
useWorld((s) => ({ world } = s));

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
