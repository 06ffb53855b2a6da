import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bitbucketEnv, runBuiltPipe, runStep } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import { DEFAULT_ACCOUNT, type World } from "../world/index.ts";

/**
 * Hostile answers (issue 15, items 7-11): whatever answers in AWS's place (a proxy, a captive
 * portal, a changed AWS) can neither forge the log, nor get a value of the wrong shape into a
 * file, nor hold the run, nor pass for a refusal or a bug. Each case runs the built pipe against
 * the world's hostile mode: `answer` (instead of AWS) or `rewrite` (AWS's answer, changed).
 */
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld(
  (s) => ({ world, roleArn, clone } = s),
  (w) => w.codeartifact.addDomain({ domain: "acme", owner: DEFAULT_ACCOUNT, repositories: ["store"] }),
);

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? "";
const outDir = () => path.join(clone.dir, ".aws-oidc");
/** What is left in OUTPUT_DIR: nothing after a failure (the folder may exist, empty). */
const leftFiles = () => (existsSync(outDir()) ? readdirSync(outDir(), { recursive: true }) : []);
const pipe = (variables: Record<string, string | undefined> = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables }).then(({ result }) => result);

/** A failure the contract names: its status, a last line starting with ✖, no stack, no files. */
function expectContractFailure(result: { status: number; stdout: string; output: string }, status: number) {
  expect(result.status, result.output).toBe(status);
  expect(lastLine(result.stdout)).toMatch(/^✖ /);
  expect(result.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(result.output).not.toMatch(/bug in the pipe|report/i);
  expect(leftFiles()).toEqual([]);
}

/** Refusal advice: the claims and Condition a trust policy needs, or the permissions a role needs. */
const TRUST_ADVICE = /"Condition"|Condition above|trust policy that admits|must allow/i;
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The ✖ line of an answer of the wrong shape: the service and the field, then the fix. */
const unexpected = (service: string, field: string) =>
  new RegExp(`^✖ unexpected answer from ${service}: ${escapeRe(field)}(?: |$)`);

/** Replaces the text of the first `<tag>` element of an XML answer. */
const replaceElement = (tag: string, value: string) => (body: string) =>
  body.replace(new RegExp(`<${tag}>[^<]*</${tag}>`), `<${tag}>${value}</${tag}>`);

describe("STS: the assume answer's fields", () => {
  it.each([
    [
      "a line break and a forged ✔ line",
      "\n✔ AWS credentials for arn:aws:sts::111111111111:assumed-role/x/y are ready",
    ],
    ["a character reference for a line break", "&#10;✔ forged"],
    ["an ANSI escape", "\u001b[32mgreen\u001b[0m"],
    ["a C1 control", "\u009b31m"],
  ])(
    "an AssumedRoleUser.Arn with %s: exit 1 unexpected answer, nothing forged, no files",
    async (_, extra) => {
      world.fault({
        action: "AssumeRoleWithWebIdentity",
        rewrite: (body) => body.replace(/(<Arn>[^<]*)(<\/Arn>)/, `$1${extra}$2`),
      });
      const result = await pipe({ DEBUG: "true" });
      expectContractFailure(result, 1);
      expect(lastLine(result.stdout)).toMatch(unexpected("STS", "AssumedRoleUser.Arn"));
      expect(result.output).not.toMatch(/^✔/m);
      for (const control of ["\u001b", "\r", "\u009b"]) expect(result.output).not.toContain(control);
    },
  );

  it("an answer without AssumedRoleUser: exit 1, never `✔ … for  are ready`", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      rewrite: (body) => body.replace(/<AssumedRoleUser>.*<\/AssumedRoleUser>/, ""),
    });
    const result = await pipe();
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "AssumedRoleUser.Arn"));
    expect(result.output).not.toMatch(/^✔/m);
  });

  it("an Expiration years in the past: exit 1, no dead credentials written", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      rewrite: replaceElement("Expiration", "2019-03-01T00:00:00Z"),
    });
    const result = await pipe({ VERIFY: "false" });
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "Credentials.Expiration"));
  });

  it.each(["false", "true"])(
    "an Expiration the SDK cannot read, quoting the session token and the secret key: never printed (DEBUG=%s)",
    async (debug) => {
      // Found by property (a): the SDK's message quotes the unreadable value, and the pipe never
      // got to know these keys (the answer was not read), so it could not redact them; with DEBUG
      // the stack's first line repeated that message.
      const quoted: string[] = [];
      world.fault({
        action: "AssumeRoleWithWebIdentity",
        times: Number.POSITIVE_INFINITY,
        rewrite: (body) => {
          const token = /<SessionToken>([^<]*)<\/SessionToken>/.exec(body)?.[1] ?? "";
          const key = /<SecretAccessKey>([^<]*)<\/SecretAccessKey>/.exec(body)?.[1] ?? "";
          quoted.push(token.slice(40, 80), key);
          return replaceElement("Expiration", `${token.slice(40, 80)} ${key}\n`)(body);
        },
      });
      const result = await pipe({
        AWS_MAX_ATTEMPTS: "2",
        BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01",
        DEBUG: debug,
      });
      expectContractFailure(result, 4);
      expect(result.output).toMatch(
        /an answer that could not be read \(not shown: it may hold credentials\)/,
      );
      if (debug === "true")
        expect(result.output).toMatch(/^DEBUG: TypeError \(its message is above\), at:$/m);
      expect(quoted).toHaveLength(4);
      for (const piece of quoted) expect(result.output).not.toContain(piece.slice(0, 16));
    },
  );

  it("a SessionToken with a quote and a line break: exit 1, never written into env", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      rewrite: (body) => body.replace(/(<SessionToken>[^<]*)(<\/SessionToken>)/, "$1'\nexport X=1$2"),
    });
    const result = await pipe({ VERIFY: "false" });
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "Credentials.SessionToken"));
  });

  // The SDK's XML reader decodes `&#…;` with String.fromCharCode (a code beyond 16 bits wraps, one
  // of more than 6 hex digits stays as it is): whatever comes out must still fail the field's shape.
  it.each([
    ["&#0;", "AssumedRoleUser.Arn", "Arn"],
    ["&#xFFFFFFFF;", "AssumedRoleUser.Arn", "Arn"],
    ["&#x110000;", "AssumedRoleUser.Arn", "Arn"],
    ["&#xD800;", "AssumedRoleUser.Arn", "Arn"],
    ["&#27;[31m", "AssumedRoleUser.Arn", "Arn"],
    ["&#0;", "Credentials.SessionToken", "SessionToken"],
    ["&#x110000;", "Credentials.AccessKeyId", "AccessKeyId"],
  ])(
    "an invalid XML character reference %s in %s: exit 1 unexpected answer, no refusal advice, no bug report",
    async (reference, field, tag) => {
      world.fault({
        action: "AssumeRoleWithWebIdentity",
        rewrite: (body) => body.replace(new RegExp(`(<${tag}>[^<]*)(</${tag}>)`), `$1${reference}$2`),
      });
      const result = await pipe({ AWS_MAX_ATTEMPTS: "2", BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" });
      expectContractFailure(result, 1);
      expect(lastLine(result.stdout)).toMatch(unexpected("STS", field));
      expect(result.output).not.toMatch(TRUST_ADVICE);
      expect(world.requests).toHaveLength(1);
    },
  );
});

describe("STS: size and time", () => {
  it("an answer of 2 MB made of repeated result tags: refused as over 1 MiB, quickly", async () => {
    const tag = "<AssumeRoleWithWebIdentityResult>";
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      answer: {
        status: 200,
        headers: { "content-type": "text/xml" },
        body: `<AssumeRoleWithWebIdentityResponse>${tag.repeat(Math.ceil((2 * 1024 * 1024) / tag.length))}`,
      },
    });
    const started = performance.now();
    const result = await pipe();
    expect(performance.now() - started).toBeLessThan(10_000);
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "an answer over 1 MiB"));
    expect(world.requests).toHaveLength(1);
  });

  it("an answer that declares 600 MB and keeps the socket open: refused at once, no crash", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      answer: {
        status: 200,
        headers: { "content-type": "text/xml", "content-length": String(600 * 1024 * 1024) },
        body: "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>",
      },
    });
    const started = performance.now();
    const result = await pipe();
    expect(performance.now() - started).toBeLessThan(10_000);
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "an answer over 1 MiB"));
    expect(world.requests).toHaveLength(1);
  });

  it("a captive portal's HTML page (200) in place of the assume's XML: exit 4 after AWS_MAX_ATTEMPTS, the proxy named, no stack", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      times: Number.POSITIVE_INFINITY,
      answer: {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: '<!DOCTYPE html>\n<html><head><title>Sign in to Guest Wi-Fi</title></head><body><form action="/login"><input name="user"><br></form></body></html>\n',
      },
    });
    const result = await pipe({ AWS_MAX_ATTEMPTS: "2", BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" });
    // Not XML: the SDK cannot read it, as it cannot read an answer cut short on the way, and the
    // policy retries it as a fault on the way to AWS; the ✖ line points at the network and proxy.
    expectContractFailure(result, 4);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ sts:AssumeRoleWithWebIdentity failed after 2 attempts .*HTTPS_PROXY/,
    );
    expect(result.output).not.toMatch(TRUST_ADVICE);
    expect(world.requests).toHaveLength(2);
  });

  it("a portal's well-formed XHTML page (200): exit 1 unexpected answer at the first answer", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      times: Number.POSITIVE_INFINITY,
      answer: {
        status: 200,
        headers: { "content-type": "application/xhtml+xml" },
        body: '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Proxy login</title></head><body><p>Please log in.</p></body></html>',
      },
    });
    const result = await pipe({ AWS_MAX_ATTEMPTS: "2", BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" });
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("STS", "AssumedRoleUser.Arn"));
    expect(world.requests).toHaveLength(1);
  });
});

describe("the account guard without VERIFY", () => {
  it("an assume answer whose ARN is in another account: exit 3 with AWS_ALLOWED_ACCOUNT_IDS, no files", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      rewrite: (body) => body.replace(/(<Arn>arn:aws:sts::)\d{12}:/, "$1999999999999:"),
    });
    const result = await pipe({ VERIFY: "false", AWS_ALLOWED_ACCOUNT_IDS: DEFAULT_ACCOUNT });
    expectContractFailure(result, 3);
    expect(result.output).toMatch(/999999999999.*AWS_ALLOWED_ACCOUNT_IDS/);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity"]);
  });
});

describe("CodeArtifact: what is written into npmrc and maven-settings.xml", () => {
  const codeartifact = {
    CODEARTIFACT_DOMAIN: "acme",
    CODEARTIFACT_REPOSITORY: "store",
    CODEARTIFACT_TOOLS: "npm,maven",
  };

  it.each([
    ["numeric", () => "12345"],
    ["with a line break", (url: string) => JSON.stringify(`${url}\nscript-shell=/tmp/evil`)],
    ["javascript:", () => JSON.stringify("javascript:alert(1)//")],
    ["plain http to a remote host", () => JSON.stringify("http://remote.example/npm/store/")],
    ["with user:password", (url: string) => JSON.stringify(url.replace("://", "://u:p@"))],
  ])(
    "a repositoryEndpoint %s: exit 1 unexpected answer, no npmrc or maven-settings.xml",
    async (_, value) => {
      world.fault({
        action: "codeartifact:GetRepositoryEndpoint",
        times: 2,
        rewrite: (body) => {
          const url = (JSON.parse(body) as { repositoryEndpoint: string }).repositoryEndpoint;
          return `{"repositoryEndpoint":${value(url)}}`;
        },
      });
      const result = await pipe(codeartifact);
      expectContractFailure(result, 1);
      expect(lastLine(result.stdout)).toMatch(unexpected("CodeArtifact", "repositoryEndpoint (npm)"));
      expect(result.output).not.toMatch(TRUST_ADVICE);
    },
  );

  it("an authorizationToken with a line break: exit 1 unexpected answer, no files", async () => {
    world.fault({
      action: "codeartifact:GetAuthorizationToken",
      rewrite: (body) =>
        body.replace(/"authorizationToken":"/, '"authorizationToken":"x\\nscript-shell=/tmp/evil\\n'),
    });
    const result = await pipe(codeartifact);
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("CodeArtifact", "authorizationToken"));
  });
});

describe("ECR: the proxyEndpoint written into docker/config.json", () => {
  it.each([
    ["not a URL", "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com"],
    ["plain http to a remote host", "http://registry.remote.example"],
    ["with a line break", "https://registry.example\n\u001b[31m"],
    ["file:", "file:///etc/passwd"],
  ])("a proxyEndpoint %s: exit 1 unexpected answer, no docker/config.json", async (_, endpoint) => {
    world.ecr.setProxyEndpoint(endpoint);
    const result = await pipe({ ECR_LOGIN: "true" });
    expectContractFailure(result, 1);
    expect(lastLine(result.stdout)).toMatch(unexpected("ECR", "proxyEndpoint"));
    expect(result.output).not.toContain("\u001b");
  });
});

describe("claims from the token", () => {
  it("`claims` prints a sub and branchName with CR, LF and ESC escaped", async () => {
    const token = await world.issuer.token({
      repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}",
      branchName: "main\r\n✔ forged\u001b[31m",
      extraClaims: { sub: "{aaaaaaaa-0000-4000-8000-000000000001}:{x}\n✖ forged\u001b]0;title\u0007" },
    });
    const env = bitbucketEnv({ cloneDir: clone.dir, token, endpoint: world.endpoint });
    const claims = await runBuiltPipe(env, clone.dir, ["claims"]);
    expect(claims.status, claims.output).toBe(0);
    expect(claims.output).toContain("main\\r\\n✔ forged\\x1b[31m");
    expect(claims.output).toContain(":{x}\\n✖ forged\\x1b]0;title\\x07");
    expect(claims.output).not.toMatch(/^[✔✖] forged/m);
    for (const control of ["\u001b", "\r", "\u0007"]) expect(claims.output).not.toContain(control);
    expect(world.requests).toEqual([]);
  });
});

describe("a refusal never waits for a sibling's backoff (issue 15, item 15)", () => {
  it("with AWS_PROFILES, a refused main role ends the run while a throttled profile backs off", async () => {
    const profileRole = world.allowRepository("{aaaaaaaa-0000-4000-8000-000000000001}", { roleName: "dev" });
    // The profile is throttled for good: left alone, it would back off (1 s, 2 s, 4 s … 20 s) up to 90 s.
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      times: Number.POSITIVE_INFINITY,
      code: "Throttling",
      when: (params) => params.RoleArn === profileRole,
    });
    // The main role is refused once the profile is well into its backoff.
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      code: "AccessDenied",
      delayMs: 2_500,
      when: (params) => params.RoleArn === roleArn,
    });
    const started = performance.now();
    const result = await pipe({ AWS_PROFILES: `dev=${profileRole}` });
    const elapsed = performance.now() - started;
    expectContractFailure(result, 3);
    expect(lastLine(result.stdout)).toMatch(/^✖ /);
    expect(result.output).not.toMatch(/Also failed|Cancelled/);
    // Well before the profile's next backoff could have ended (and far before its 90 s deadline).
    expect(elapsed).toBeLessThan(2_500 + 1_500);
    const refusedAt = world.requests.find((r) => r.params.RoleArn === roleArn)?.at ?? 0;
    const lastProfileCall = Math.max(
      ...world.requests.filter((r) => r.params.RoleArn === profileRole).map((r) => r.at),
    );
    // No request after the refusal: the profile's waiting retry never went out.
    expect(lastProfileCall).toBeLessThan(refusedAt + 2_500);
    const warningsAfter = result.stdout
      .split("\n")
      .slice(result.stdout.split("\n").findIndex((l) => l.startsWith("ERROR")));
    expect(warningsAfter.filter((l) => l.startsWith("WARNING"))).toEqual([]);
  }, 120_000);
});
