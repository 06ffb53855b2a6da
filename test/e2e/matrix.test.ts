import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCloneDir, runStep, TEST_REPOSITORY } from "../support/pipe.ts";
import { startWorld, type World } from "../world/index.ts";

/**
 * Every variable with bad values (empty, whitespace, wrong type, out of range, injection
 * characters): exit 2, the variable's name in the ✖ line, and not one request sent.
 */
const INJECTIONS = ["$(id)", "x'y", "a\nb", "`id`"];
const ARN = "arn:aws:iam::111111111111:role/deploy";

const cases: Array<[variable: string, bad: string[], context?: Record<string, string>]> = [
  [
    "AWS_ROLE_ARN",
    ["", "   ", "deploy", "arn:aws:iam::123:role/x", "arn:aws:iam::111111111111:user/x", ...INJECTIONS],
  ],
  ["AWS_REGION", ["", "  ", "Sydney", "us_east_1", ...INJECTIONS]],
  ["AWS_ROLE_SESSION_NAME", ["a", "x".repeat(65), "has space", ...INJECTIONS]],
  ["AWS_ROLE_DURATION_SECONDS", ["soon", "899", "43201", "3600.5", "-1", "1e4", ...INJECTIONS]],
  ["AWS_SESSION_POLICY", ["{", "[]", '"text"', "{}", '{"Statement": 5}', ...INJECTIONS]],
  ["AWS_SESSION_POLICY_ARNS", ["ReadOnlyAccess", "arn:aws:iam::aws:role/x", ...INJECTIONS]],
  ["AWS_ALLOWED_ACCOUNT_IDS", ["123", "abc", "111111111111,12", ...INJECTIONS]],
  [
    "AWS_PROFILES",
    [
      "dev",
      "dev=",
      `=${ARN}`,
      "dev=arn:aws:iam::1:role/x",
      `default=${ARN}`,
      `dev=${ARN} dev=${ARN}`,
      ...INJECTIONS,
    ],
  ],
  ["AWS_CHAIN_ROLE_ARN", ["deploy", ...INJECTIONS]],
  ["AWS_CHAIN_EXTERNAL_ID", ["a", "has space", ...INJECTIONS], { AWS_CHAIN_ROLE_ARN: ARN }],
  ["CREDENTIALS_MODE", ["keys", "'static'", ...INJECTIONS]],
  ["VERIFY", ["yes", "1", "tru", ...INJECTIONS]],
  ["MASK_ACCOUNT_ID", ["on", "0", ...INJECTIONS]],
  ["DEBUG", ["verbose", ...INJECTIONS]],
  ["OUTPUT_DIR", ["../outside", "/etc", ".", "a\nb"]],
  ["CODEARTIFACT_DOMAIN", ["Acme", "a", ...INJECTIONS], { CODEARTIFACT_REPOSITORY: "store" }],
  ["CODEARTIFACT_REPOSITORY", ["x", "repo name", ...INJECTIONS], { CODEARTIFACT_DOMAIN: "acme" }],
  [
    "CODEARTIFACT_DOMAIN_OWNER",
    ["123", ...INJECTIONS],
    { CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "store" },
  ],
  [
    "CODEARTIFACT_TOOLS",
    ["cargo", "npm;rm", ...INJECTIONS],
    { CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "store" },
  ],
  [
    "CODEARTIFACT_NPM_SCOPE",
    ["acme", "@Acme", ...INJECTIONS],
    { CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "store" },
  ],
  [
    "CODEARTIFACT_DURATION_SECONDS",
    ["100", "43201", "x", ...INJECTIONS],
    { CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "store" },
  ],
  ["ECR_LOGIN", ["yes", ...INJECTIONS]],
  ["ECR_REGISTRY_IDS", ["123", ...INJECTIONS], { ECR_LOGIN: "true" }],
  ["AWS_MAX_ATTEMPTS", ["0", "21", "x", ...INJECTIONS]],
  ["BITBUCKET_AWS_OIDC_TEST_TIME_SCALE", ["0", "2", "x", ...INJECTIONS]],
  ["AWS_ENDPOINT_URL", ["not a url", "http://sts.example.com", "ftp://127.0.0.1", ...INJECTIONS]],
  ["AWS_ENDPOINT_URL_STS", ["http://10.1.2.3", ...INJECTIONS]],
  ["AWS_ENDPOINT_URL_CODEARTIFACT", ["http://codeartifact.example.com"]],
  ["AWS_ENDPOINT_URL_ECR", ["http://ecr.example.com"]],
  ["AWS_USE_FIPS_ENDPOINT", ["yes", ...INJECTIONS]],
  ["AWS_USE_DUALSTACK_ENDPOINT", ["1", ...INJECTIONS]],
  // The ISO partitions have no dual-stack endpoints.
  ["AWS_USE_DUALSTACK_ENDPOINT", ["true"], { AWS_REGION: "us-iso-east-1" }],
];

let world: World;
let clone: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  world.allowRepository(TEST_REPOSITORY, { roleName: "deploy" });
  clone = await makeCloneDir();
});
afterAll(async () => {
  await clone?.remove();
  await world?.close();
});

/** Runs `work` over `items`, a few at a time: the machine has two cores. */
async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

describe("bad values of every variable", () => {
  for (const [variable, values, context = {}] of cases) {
    it(`${variable}: exit 2, named, no request`, async () => {
      world.clearRequests();
      const results = await inBatches(values, 4, async (value) => {
        const { result } = await runStep(world, clone.dir, {
          AWS_ROLE_ARN: ARN,
          ...context,
          [variable]: value,
        });
        return { value, result };
      });
      for (const { value, result } of results) {
        const failure = result.stdout.trimEnd().split("\n").at(-1) ?? "";
        expect(result.status, `${variable}=${JSON.stringify(value)}: ${result.output}`).toBe(2);
        expect(failure, `${variable}=${JSON.stringify(value)}`).toMatch(/^✖ /);
        expect(failure, `${variable}=${JSON.stringify(value)}`).toContain(variable);
      }
      expect(world.requests).toHaveLength(0);
    });
  }
});
