/**
 * The world's scripted faults, latency and throttling (test/world/faults.ts), as the SDK sees them.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { describe, expect, it } from "vitest";
import { useWorld } from "../support/worldClients.ts";
import type { World } from "./index.ts";

let world: World;
const { assume, refusal } = useWorld((s) => ({ world } = s));

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
