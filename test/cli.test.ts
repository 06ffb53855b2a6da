import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv, PIPE, ROOT, run } from "./support/pipe.ts";

/**
 * The command line (src/cli.ts), through the built program as the image runs it: dispatch,
 * --help and --version anywhere, where the log goes, how a failure is reported (once, the ✖ line
 * last), and the secrets and account ids made unprintable before anything can fail.
 */

const cwd = mkdtempSync(path.join(tmpdir(), "bb-cli-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const { version: VERSION } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
};

const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [PIPE, ...args], { env: baseEnv(env), cwd });

describe("dispatch", () => {
  it("--help and --version, at the top or after a command, in either spelling", async () => {
    const top = await cli(["--help"]);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^bitbucket-aws-oidc .*\n\nUsage:/);
    expect(top.stdout).toContain("AWS_ROLE_ARN (*)");
    expect((await cli(["-h"])).stdout).toBe(top.stdout);
    expect((await cli(["help"])).stdout).toBe(top.stdout);
    for (const args of [
      ["--version"],
      ["-v"],
      ["claims", "--version"],
      ["template", "--workspace", "x", "-v"],
    ]) {
      const result = await cli(args);
      expect([result.status, result.stdout, result.stderr]).toEqual([0, `${VERSION}\n`, ""]);
    }
  });

  it("a command's own usage, however asked", async () => {
    const claims = await cli(["claims", "--help"]);
    expect(claims.stdout).toMatch(/^Usage: bitbucket-aws-oidc claims/);
    expect((await cli(["help", "claims"])).stdout).toBe(claims.stdout);
    const template = await cli(["template", "--role-name", "x", "-h"]);
    expect(template.stdout).toMatch(/^Usage: bitbucket-aws-oidc template/);
    expect((await cli(["help", "template"])).stdout).toBe(template.stdout);
  });

  it("after --, --help is data, not a request for help", async () => {
    const result = await cli(["claims", "--", "--help"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('claims: unexpected argument "--help".');
  });

  it("an unknown command is exit 2, pointing at --help", async () => {
    const result = await cli(["deploy"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('✖ Unknown command "deploy". Run with --help to see the commands.\n');
    expect(result.stdout).toBe("");
  });
});

describe("where the log goes", () => {
  it("commands print their result on stdout and their log on stderr (template > stack.yaml works)", async () => {
    const result = await cli([
      "template",
      "--workspace",
      "acme",
      "--workspace-uuid",
      "12345678-90ab-4cde-8f01-234567890abc",
      "--repository-uuid",
      "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}",
      "--source-ip",
      "0.0.0.0/0",
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^AWSTemplateFormatVersion: "2010-09-09"/);
    expect(result.stderr).toMatch(/^WARNING: --source-ip 0\.0\.0\.0\/0 admits every address/m);
  });

  it("the pipe's run logs on stdout, opening with its version", async () => {
    const result = await cli([], { AWS_REGION: "eu-west-1" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")[0]).toBe(
      `INFO: bitbucket-aws-oidc ${VERSION} (Node ${process.versions.node})`,
    );
  });
});

describe("failures", () => {
  it("one problem: a single ✖ line with the message and the fix", async () => {
    const result = await cli([], { AWS_REGION: "eu-west-1" });
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^✖ AWS_ROLE_ARN is required: .* Fix AWS_ROLE_ARN in the pipe's `variables:`/);
  });

  it("several: an ERROR line, one line each, and the ✖ line with only the fix", async () => {
    const result = await cli([], { VERIFY: "maybe" });
    const lines = result.stdout.trimEnd().split("\n").slice(1);
    expect(lines[0]).toBe("ERROR: 3 problems with the pipe's variables");
    expect(lines.slice(1, -1)).toEqual([
      expect.stringMatching(/^- AWS_ROLE_ARN is required/),
      expect.stringMatching(/^- AWS_REGION is required/),
      expect.stringMatching(/^- VERIFY must be true or false/),
    ]);
    expect(lines.at(-1)).toBe(
      "✖ Fix AWS_ROLE_ARN, AWS_REGION and VERIFY in the pipe's `variables:` and run the step again.",
    );
  });
});

describe("unprintable from the start", () => {
  it("an endpoint's or a proxy's password, wherever it turns up, in any encoding", async () => {
    const password = "Pr0xyPassw0rd-1234567";
    const result = await cli([], {
      HTTPS_PROXY: `http://user:${encodeURIComponent(password)}@127.0.0.1:1`,
      AWS_REGION: password,
      AWS_ROLE_SESSION_NAME: Buffer.from(`user:${password}`).toString("base64"),
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toContain("AWS_REGION must be an AWS region");
    expect(result.stdout).not.toContain(password.slice(0, 16));
    expect(result.stdout).not.toContain(Buffer.from(`user:${password}`).toString("base64").slice(0, 16));
  });

  it("the step's token and its parts", async () => {
    const signature = "S1gnatureOfTheStepToken-abcdefghijklmnop";
    const token = `eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.${signature}`;
    const result = await cli([], {
      BITBUCKET_STEP_OIDC_TOKEN: token,
      AWS_REGION: "eu-west-1",
      AWS_ROLE_ARN: signature,
    });
    expect(result.stdout).toContain("AWS_ROLE_ARN must be an IAM role ARN");
    expect(result.stdout).not.toContain(signature.slice(0, 16));
  });

  it("MASK_ACCOUNT_ID: account ids hidden in every line, the example ARN's too", async () => {
    const result = await cli([], {
      MASK_ACCOUNT_ID: "true",
      AWS_REGION: "eu-west-1",
      AWS_ROLE_ARN: "deploy",
    });
    expect(result.stdout).toContain("arn:aws:iam::************:role/deploy");
    expect(result.stdout).not.toMatch(/\d{12}/);
  });
});
