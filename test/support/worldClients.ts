/**
 * For the world's own tests (test/world/*.test.ts): one world per file, reset before each test,
 * and the real AWS SDK v3 clients over real HTTP, as the pipe uses them.
 */
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type Credentials,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { DEFAULT_REPOSITORY_UUID, startWorld, type World } from "../world/index.ts";

export const REGION = "ap-southeast-2";
export const OTHER_REPO = "{99999999-8888-4777-8666-555555555555}";
export const PROD_ENV = "{e0e0e0e0-1111-4222-8333-444444444444}";

export type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken: string };
export const keysOf = (c: Credentials | undefined): Keys => ({
  accessKeyId: c?.AccessKeyId ?? "",
  secretAccessKey: c?.SecretAccessKey ?? "",
  sessionToken: c?.SessionToken ?? "",
});

/**
 * Starts a world for the test file with a role that trusts the default repository; `started`
 * receives both. Returns clients bound to that world.
 */
export function useWorld(started: (s: { world: World; roleArn: string }) => void) {
  let world: World;
  let roleArn: string;
  beforeAll(async () => {
    world = await startWorld();
    roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID);
    started({ world, roleArn });
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

  return { sts, assume, lastRecord, refusal };
}
