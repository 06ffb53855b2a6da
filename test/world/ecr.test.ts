/**
 * The world's ECR (test/world/ecr.ts), through the real @aws-sdk/client-ecr: Docker login tokens
 * per registry, faults and denials.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { ECRClient, GetAuthorizationTokenCommand as EcrTokenCommand } from "@aws-sdk/client-ecr";
import { beforeAll, describe, expect, it } from "vitest";
import { type Keys, keysOf, REGION, useWorld } from "../support/worldClients.ts";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, type World } from "./index.ts";

let world: World;
const { assume, refusal, lastRecord } = useWorld((s) => ({ world } = s));

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
