import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runStep, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * The proofs of what is exported, end to end: the assume goes through the SDK's fromTokenFile on the
 * staged token file, and with VERIFY each named profile is verified with the credentials the SDK's
 * fromIni resolves from the staged aws-config/aws-credentials; no round trip is added, nothing
 * staged is left. (Staged files that would fail a later SDK: test/proofs.test.ts and
 * test/aws/providers.test.ts.)
 */
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
let devRole: string;
useStepWorld(
  (s) => ({ world, roleArn, clone } = s),
  (w) => {
    devRole = w.allowRepository(TEST_REPOSITORY, { roleName: "dev-deploy" });
  },
);

const calls = () => world.requests.map((r) => `${r.action}:${r.status}`);

describe("round trips stay 1 / 2 with the proofs", () => {
  it.each(["static", "web-identity"])(
    "%s mode with a profile: the assumes at once, then every verification at once",
    async (mode) => {
      const { result } = await runStep(world, clone.dir, {
        AWS_ROLE_ARN: roleArn,
        AWS_PROFILES: `dev=${devRole}`,
        CREDENTIALS_MODE: mode,
      });
      expect(result.status, result.output).toBe(0);
      expect(calls()).toEqual([
        "AssumeRoleWithWebIdentity:200",
        "AssumeRoleWithWebIdentity:200",
        "GetCallerIdentity:200",
        "GetCallerIdentity:200",
      ]);
      // Both verifications left before either answered: one round trip, not one per profile.
      const [firstAnswer] = world.requests.slice(2).map((r) => r.at);
      expect(Math.max(...world.requests.slice(2).map((r) => r.at)) - (firstAnswer ?? 0)).toBeLessThan(1000);
      // The profile's verification was signed with the profile's own session.
      const signers = world.requests.slice(2).map((r) => world.sessions.get(r.accessKeyId ?? "")?.roleArn);
      expect(signers.sort()).toEqual([roleArn, devRole].sort());
      expect(result.stdout).toMatch(/Verified the profile dev from the files as the SDK reads them/);
      // Nothing staged is left behind.
      expect(
        readdirSync(path.join(clone.dir, ".aws-oidc")).filter((f) =>
          f.startsWith(".bitbucket-aws-oidc-tmp-"),
        ),
      ).toEqual([]);
    },
  );

  it("VERIFY=false: one round trip, the assume through the staged token file", async () => {
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_PROFILES: `dev=${devRole}`,
      VERIFY: "false",
    });
    expect(result.status, result.output).toBe(0);
    expect(calls()).toEqual(["AssumeRoleWithWebIdentity:200", "AssumeRoleWithWebIdentity:200"]);
  });
});
