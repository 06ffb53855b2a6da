import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatches } from "../../src/artifacts.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { VARIABLES } from "../../src/config/variables.ts";
import { InputErrors } from "../../src/errors.ts";
import { hasControl } from "../../src/printable.ts";
import { runBuiltPipe, runStep } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * Hostile input (issue 15, items 13 and 14): refused with exit 2 before any request, naming the
 * variable and never echoing what it held; and an `artifacts:` glob that cannot hold the run.
 */

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const pipe = (variables: Record<string, string | undefined> = {}, tokenOptions = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables }, tokenOptions);

const MULTI_LINE = new Set<string>([
  VARIABLES.profiles,
  VARIABLES.sessionPolicy,
  VARIABLES.sessionPolicyArns,
  VARIABLES.allowedAccounts,
  VARIABLES.caTools,
  VARIABLES.ecrRegistryIds,
]);
const NAMES = [...Object.values(VARIABLES), "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

/** A control character the variable may not hold: C0, DEL, C1, U+2028/9; tab, CR, LF only on one-line variables. */
const controlFor = (name: string) =>
  fc
    .oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.constantFrom(0x2028, 0x2029),
    )
    .filter((code) => !(MULTI_LINE.has(name) && (code === 9 || code === 10 || code === 13)))
    .map((code) => String.fromCharCode(code));

/** A variable, a plausible value, and a control character placed somewhere inside it. */
const hostileVariable = fc
  .constantFrom(...NAMES)
  .chain((name) =>
    fc.tuple(
      fc.constant(name),
      fc.stringMatching(/^[A-Za-z0-9:/._=-]{0,30}$/),
      controlFor(name),
      fc.stringMatching(/^[A-Za-z0-9:/._=-]{0,30}$/),
    ),
  )
  .map(([name, before, control, after]) => ({ name, value: `${before}${control}${after}x` }));

const validEnv = (): Record<string, string> => ({
  AWS_ROLE_ARN: "arn:aws:iam::111111111111:role/deploy",
  AWS_REGION: "ap-southeast-2",
});

describe("control characters in variables", () => {
  it("any variable with a control character is refused by name, and no problem holds one raw (200 runs, in process)", () => {
    fc.assert(
      fc.property(hostileVariable, ({ name, value }) => {
        let thrown: unknown;
        try {
          parseConfig({ ...validEnv(), [name]: value }, "/tmp/clone");
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(InputErrors);
        const problems = (thrown as InputErrors).problems;
        expect(problems.some((p) => p.startsWith(`${name} contains a control character`))).toBe(true);
        for (const problem of problems) expect(hasControl(problem), problem).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("the built pipe: exit 2 naming the variable, no request, no file (a few runs)", async () => {
    const samples = fc.sample(hostileVariable, { numRuns: 4, seed: 15 });
    samples.push(
      { name: VARIABLES.outputDir, value: "creds\u001b[2J" },
      { name: VARIABLES.region, value: "ap-southeast-2\n" },
    );
    for (const { name, value } of samples) {
      world.clearRequests();
      const { result } = await pipe({ [name]: value });
      expect(result.status, `${name}=${JSON.stringify(value)}\n${result.output}`).toBe(2);
      expect(result.output).toContain(`${name} contains a control character`);
      expect(world.requests).toEqual([]);
      expect(result.output).not.toContain("\u001b");
    }
    expect(existsSync(path.join(clone.dir, ".aws-oidc", "env"))).toBe(false);
  });

  it("tab, CR and LF stay blanks where a value may span lines", async () => {
    const { result } = await pipe({ AWS_ALLOWED_ACCOUNT_IDS: "111111111111,\r\n\t222222222222" });
    expect(result.status, result.output).toBe(0);
  });
});

describe("OUTPUT_DIR", () => {
  it("5,000 characters: exit 2 before any request, without echoing the path", async () => {
    const long = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, "0")}${"d".repeat(98)}`).join(
      "/",
    );
    const { result } = await pipe({ OUTPUT_DIR: long });
    expect(result.status, result.output).toBe(2);
    expect(result.output).toMatch(/OUTPUT_DIR is 5049 characters long/);
    expect(result.output).not.toContain("d".repeat(60));
    expect(world.requests).toEqual([]);
  });

  it("a folder name over 255 characters: exit 2 before any request", async () => {
    const { result } = await pipe({ OUTPUT_DIR: `creds/${"n".repeat(300)}` });
    expect(result.status, result.output).toBe(2);
    expect(result.output).toMatch(/folder name of 300/);
    expect(result.output).not.toContain("n".repeat(100));
    expect(world.requests).toEqual([]);
  });

  it("one aws-config cannot hold (a blank then #) in a web-identity profile run: exit 2 before any request", async () => {
    const { result } = await pipe({
      OUTPUT_DIR: "creds #1",
      CREDENTIALS_MODE: "web-identity",
      AWS_PROFILES: `dev=${roleArn}`,
    });
    expect(result.status, result.output).toBe(2);
    expect(result.output).toMatch(/OUTPUT_DIR \(creds #1\) cannot be written into aws-config/);
    expect(world.requests).toEqual([]);
  });

  it("the same folder is fine where no aws-config holds its path", async () => {
    const { result } = await pipe({ OUTPUT_DIR: "creds #1" });
    expect(result.status, result.output).toBe(0);
  });
});

describe("token times", () => {
  for (const exp of [-1e20, 1e20, "1900000000"]) {
    it(`exp ${JSON.stringify(exp)}: exit 2 before any request, and in claims`, async () => {
      const { result, env } = await pipe({}, { extraClaims: { exp } });
      expect(result.status, result.output).toBe(2);
      expect(result.output).toMatch(/`exp` claim is not a time/);
      expect(result.output).not.toMatch(/Invalid time value|bug in the pipe/);
      expect(world.requests).toEqual([]);
      const claims = await runBuiltPipe(env, clone.dir, ["claims"]);
      expect(claims.status, claims.output).toBe(2);
      expect(claims.stderr).toMatch(/`exp` claim is not a time/);
    });
  }
});

describe("artifacts: globs", () => {
  const crafted = `${"*".repeat(40)}a`;

  it("a crafted glob against a long path is decided at once (linear matcher)", () => {
    const started = performance.now();
    expect(globMatches(crafted, `${"x/".repeat(2000)}${"b".repeat(5000)}`)).toBe(false);
    expect(globMatches(`**/${"*".repeat(40)}a`, `${"b".repeat(5000)}/a`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("the built pipe with that glob in bitbucket-pipelines.yml finishes (bound: 20 s)", async () => {
    const outputDir = `${"o".repeat(200)}/${"p".repeat(200)}`;
    mkdirSync(clone.dir, { recursive: true });
    writeFileSync(
      path.join(clone.dir, "bitbucket-pipelines.yml"),
      `pipelines:\n  default:\n    - step:\n        artifacts:\n          - "${crafted}"\n          - "${outputDir}/**"\n`,
    );
    const started = performance.now();
    const { result } = await pipe({ OUTPUT_DIR: outputDir });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/artifacts: 'o+\/p+\/\*\*', which matches/);
  }, 30_000);
});
