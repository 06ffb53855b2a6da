import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretScrubber } from "../../src/redact.ts";
import { findLeaks } from "../support/leakGuard.ts";
import { piecesIn } from "../support/output.ts";
import { bitbucketEnv, runBuiltPipe, runStep } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * Secrets never reach the log (issue 15, items 1-3 and 8), on every path that prints: the ✖
 * line, ERROR and WARNING lines, the DEBUG dumps, `claims`. The leak guard checks every run here
 * against all the world issued; these tests add the cases it cannot see by itself (cuts,
 * encodings, the pipe's own inputs) and check the guard itself.
 */

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const PIECE = 16;
const latestSession = () => [...world.sessions.values()].at(-1);

/** A message AWS might send that quotes `secret` so that a cut at 200 characters falls inside it. */
const quoting = (secret: string, lead = 150) => `${"x".repeat(lead)} ${secret} and more after it`;

describe("cut messages: no piece survives the 200-character bound", () => {
  it("STS echoing the token's signature alone in a refusal: nothing of it on the ✖ line", async () => {
    const token = await world.issuer.token({ repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}" });
    const signature = token.split(".")[2] ?? "";
    for (const debug of ["false", "true"]) {
      world.fault({
        action: "AssumeRoleWithWebIdentity",
        code: "InvalidIdentityToken",
        message: quoting(signature),
      });
      const env = bitbucketEnv({
        cloneDir: clone.dir,
        token,
        endpoint: world.endpoint,
        variables: { AWS_ROLE_ARN: roleArn, DEBUG: debug },
      });
      const result = await runBuiltPipe(env, clone.dir);
      expect(result.status, result.output).toBe(3);
      expect(result.output).toMatch(/^✖ /m);
      expect(piecesIn(result.output, signature)).toEqual([]);
    }
  });

  it("a session token quoted in a verification refusal, cut mid-token: nothing of it anywhere", async () => {
    world.fault({
      action: "GetCallerIdentity",
      code: "AccessDenied",
      message: () => quoting(latestSession()?.sessionToken ?? "", 120),
    });
    const { result } = await runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, DEBUG: "true" });
    expect(result.status, result.output).toBe(3);
    const session = latestSession();
    expect(session).toBeDefined();
    expect(piecesIn(result.output, session?.sessionToken ?? "")).toEqual([]);
    expect(piecesIn(result.output, session?.secretAccessKey ?? "")).toEqual([]);
  });

  it("a transient fault quoting the signature: the WARNING retry lines hold none of it", async () => {
    const token = await world.issuer.token({ repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}" });
    const signature = token.split(".")[2] ?? "";
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      code: "ServiceUnavailable",
      times: 2,
      message: quoting(signature, 60),
    });
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: roleArn, BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" },
    });
    const result = await runBuiltPipe(env, clone.dir);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/^WARNING: /m);
    expect(piecesIn(result.output, signature)).toEqual([]);
  });
});

describe("the pipe's own secrets: passwords in URLs, values in the wrong variable", () => {
  it("an endpoint's user:password (with quotes and a backslash) is in no DEBUG dump, raw or JSON-escaped", async () => {
    const password = 'pa"ss\\word-0123456789-abcdef';
    const endpoint = world.endpoint.replace("http://", `http://svc-user:${encodeURIComponent(password)}@`);
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      code: "AccessDenied",
      message: `not for ${JSON.stringify(`svc-user:${password}`)}`,
    });
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_ENDPOINT_URL_STS: endpoint,
      DEBUG: "true",
    });
    expect(result.output).toMatch(/^DEBUG: configuration /m);
    expect(result.output).not.toContain("svc-user:");
    expect(piecesIn(result.output, password)).toEqual([]);
    expect(result.output).not.toContain(
      Buffer.from(`svc-user:${password}`).toString("base64").slice(0, PIECE),
    );
  });

  it("the token pasted into other variables: the ERROR lines show no piece of it", async () => {
    const token = await world.issuer.token({ repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}" });
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: token, AWS_CHAIN_EXTERNAL_ID: `x ${token}`, DEBUG: "true" },
    });
    const result = await runBuiltPipe(env, clone.dir);
    expect(result.status, result.output).toBe(2);
    expect(result.output).toMatch(/^ERROR: /m);
    expect(findLeaks(result.output, "the log")).toEqual([]);
    expect(piecesIn(result.output, token)).toEqual([]);
  });
});

describe("untrusted text cannot forge lines or colour the log", () => {
  it("a refusal message with a line break, a ✔ line and ANSI escapes is printed escaped", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      code: "AccessDenied",
      message:
        "Not authorized\n✔ AWS credentials for arn:aws:sts::111111111111:assumed-role/x/y are ready\u001b[32m\r\u009b",
    });
    const { result } = await runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn });
    expect(result.status, result.output).toBe(3);
    expect(result.output).not.toMatch(/^✔/m);
    for (const control of ["\u001b", "\r", "\u009b"]) expect(result.output).not.toContain(control);
    expect(result.output).toContain("Not authorized\\n✔ AWS credentials");
  });

  it("claims with a line break and escapes: the refusal's claim lines and `claims` show them escaped", async () => {
    const hostile = {
      branchName: "main\n✔ forged\u001b[31m",
      extraClaims: { sub: "{aaaaaaaa-0000-4000-8000-000000000001}:x\r\n✖ forged" },
    };
    const token = await world.issuer.token({
      repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}",
      ...hostile,
    });
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: "arn:aws:iam::111111111111:role/absent" },
    });
    const refused = await runBuiltPipe(env, clone.dir);
    expect(refused.status, refused.output).toBe(3);
    expect(refused.output).toContain("  branchName: main\\n✔ forged\\x1b[31m");
    for (const args of [["claims"], ["claims", "--format", "json"]]) {
      const claims = await runBuiltPipe(env, clone.dir, args);
      expect(claims.status, claims.output).toBe(0);
      for (const out of [refused.output, claims.output]) {
        expect(out).not.toMatch(/^[✔✖] forged/m);
        for (const control of ["\u001b", "\r"]) expect(out).not.toContain(control);
      }
    }
  });
});

describe("the scrubber and the guard", () => {
  const secretArb = fc.stringMatching(/^[A-Za-z0-9+/=_"\\\n.-]{16,80}$/);

  it("removes every 16-character piece of a secret, raw, JSON-escaped or percent-encoded (200 runs)", () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.nat(),
        fc.nat(),
        fc.constantFrom("raw", "json", "url"),
        (secret, a, b, form) => {
          const scrubber = new SecretScrubber();
          scrubber.add(secret);
          const encoded =
            form === "raw"
              ? secret
              : form === "json"
                ? JSON.stringify(secret).slice(1, -1)
                : encodeURIComponent(secret);
          const from = a % (encoded.length - PIECE + 1);
          const to = from + PIECE + (b % (encoded.length - from - PIECE + 1));
          const text = `before ${encoded.slice(from, to)} after`;
          const out = scrubber.scrub(text);
          expect(out).toMatch(/^before .*after$/s);
          for (let i = 0; i + PIECE <= encoded.length; i++)
            expect(out).not.toContain(encoded.slice(i, i + PIECE));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("scrubs a megabyte holding many secrets in linear time", () => {
    const scrubber = new SecretScrubber();
    const secrets = Array.from(
      { length: 50 },
      (_, i) =>
        `${String(i).padStart(4, "0")}${"k".repeat(6)}${Math.random().toString(36).slice(2)}${"Z".repeat(900)}`,
    );
    for (const secret of secrets) scrubber.add(secret);
    const text = `${"a b ".repeat(250_000)}${secrets.join(" ")}`;
    const started = performance.now();
    const out = scrubber.scrub(text);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(out).not.toContain("Z".repeat(PIECE));
  });

  it("the leak guard finds a piece of an issued secret in any of its forms", async () => {
    const token = await world.issuer.token();
    const signature = token.split(".")[2] ?? "";
    expect(findLeaks(`✖ refused: ${signature.slice(30, 47)}`, "a line")).toHaveLength(1);
    expect(findLeaks(Buffer.from(`aws:${signature}`).toString("base64"), "a line").length).toBeGreaterThan(0);
    expect(findLeaks("✖ refused: nothing secret here", "a line")).toEqual([]);
  });
});
