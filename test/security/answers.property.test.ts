import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { piecesIn } from "../support/output.ts";
import { bitbucketEnv, run, runBuiltPipe, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { Fault, World } from "../world/index.ts";

/**
 * Property (a) of issue 15: any answer the world can send for the assume or the verification,
 * shaped or not (any status, content type, body made of pieces of AWS's XML, control characters,
 * character references, and the run's own secrets in every encoding the contract lists), leaves
 * no secret and no 16-character piece of one in the log or outputs.json (the suite's leak guard,
 * test/support/leakGuard.ts, checks every run against all the world issued, plus the explicit
 * check below), ends with a contract exit status, a `✖` last line when it fails, and writes
 * nothing outside OUTPUT_DIR (and `.git/info/exclude`).
 *
 * Each run is a fresh Bitbucket-like folder (clone, HOME and TMPDIR inside it): what changed in
 * it is compared file by file. Runs are sequential (fast-check shrinks a failure to the smallest
 * answer); BITBUCKET_AWS_OIDC_TEST_TIME_SCALE keeps the retries of throttled and 5xx answers short.
 */
let world: World;
let roleArn: string;
useStepWorld((s) => ({ world, roleArn } = s));

const RUNS = 200;
const PIECE = 16;

type SecretName = "token" | "signature" | "secretAccessKey" | "sessionToken" | "accessKeyId";
/**
 * The encodings the contract names for secrets from answers. Not base64: the contract covers only
 * the base64 of a `user:password` pair the pipe itself builds (CodeArtifact, ECR), never an STS one.
 */
type Encoding = "raw" | "json" | "percent";
type Piece =
  | { text: string }
  | { secret: SecretName; encoding: Encoding; from: number; length: number | undefined };

const XML_FRAGMENTS = [
  "<AssumeRoleWithWebIdentityResponse>",
  "</AssumeRoleWithWebIdentityResponse>",
  "<AssumeRoleWithWebIdentityResult>",
  "</AssumeRoleWithWebIdentityResult>",
  "<GetCallerIdentityResponse><GetCallerIdentityResult>",
  "</GetCallerIdentityResult></GetCallerIdentityResponse>",
  "<Account>999999999999</Account>",
  "<Arn>arn:aws:sts::111111111111:assumed-role/deploy/x</Arn>",
  "<AssumedRoleUser><Arn>",
  "</Arn></AssumedRoleUser>",
  "<Credentials><AccessKeyId>ASIAFORGED0000000000</AccessKeyId><SecretAccessKey>",
  "</SecretAccessKey><SessionToken>",
  "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>",
  "<Expiration>2001-01-01T00:00:00Z</Expiration>",
  "<ErrorResponse><Error><Code>AccessDenied</Code><Message>",
  "<ErrorResponse><Error><Code>Throttling</Code><Message>",
  "<ErrorResponse><Error><Code>IDPCommunicationError</Code><Message>",
  "</Message></Error></ErrorResponse>",
  '{"__type":"AccessDenied","message":"',
  '"}',
  "&#0;",
  "&#10;",
  "&#x1b;",
  "&#xFFFFFFFF;",
  "&amp;",
  "&lt;",
  "&bogus;",
  "<![CDATA[",
  "]]>",
  '<!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]>',
  '<?xml version="1.0"?>',
  "<!-- -->",
  "<html><body>Sign in</body></html>",
];
const CONTROL = [
  "\n",
  "\r\n",
  "\r",
  "\t",
  "\u0000",
  "\u001b[31m",
  "\u001b]0;x\u0007",
  "\u009b",
  "\u2028",
  "\u007f",
];
const FORGED = ["✔ AWS credentials for arn:aws:sts::111111111111:assumed-role/x/y are ready", "✖ ", "✔ "];

const secretArb = fc.record({
  secret: fc.constantFrom<SecretName>("token", "signature", "secretAccessKey", "sessionToken", "accessKeyId"),
  encoding: fc.constantFrom<Encoding>("raw", "json", "percent"),
  from: fc.nat({ max: 400 }),
  length: fc.option(fc.integer({ min: PIECE, max: 120 }), { nil: undefined }),
});
const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 3, arbitrary: secretArb },
  { weight: 3, arbitrary: fc.constantFrom(...XML_FRAGMENTS).map((text) => ({ text })) },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROL, ...FORGED).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }).map((text) => ({ text })) },
);
const piecesArb = fc.array(pieceArb, { minLength: 1, maxLength: 8 });

/** What answers instead of AWS, or how AWS's answer is changed. */
const answerArb = fc.record({
  action: fc.constantFrom("AssumeRoleWithWebIdentity", "GetCallerIdentity"),
  how: fc.oneof(
    // AWS's own answer, one field (or a spot) replaced by the pieces.
    fc.record({
      kind: fc.constant("rewrite" as const),
      field: fc.constantFrom(
        "Arn",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
        "AssumedRoleId",
        "Account",
        "UserId",
        "RequestId",
        "(insert)",
      ),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      pieces: piecesArb,
    }),
    // Something else answers: any status, a content type or none, a body of pieces.
    fc.record({
      kind: fc.constant("answer" as const),
      status: fc.oneof(
        fc.constantFrom(200, 200, 400, 403, 404, 407, 429, 500, 503),
        fc.integer({ min: 200, max: 599 }),
      ),
      contentType: fc.constantFrom(
        undefined,
        "text/xml",
        "application/json",
        "text/html",
        "application/octet-stream",
      ),
      errorType: fc.constantFrom(undefined, "AccessDenied", "ThrottlingException", "secret"),
      pieces: piecesArb,
    }),
    // An AWS-shaped error whose message is the pieces.
    fc.record({
      kind: fc.constant("error" as const),
      code: fc.constantFrom(
        "AccessDenied",
        "InvalidIdentityToken",
        "ValidationError",
        "Throttling",
        "ServiceUnavailable",
        "InvalidClientTokenId",
      ),
      pieces: piecesArb,
    }),
  ),
  debug: fc.boolean(),
  verify: fc.boolean(),
});

type Secrets = Partial<Record<SecretName, string>>;

function encode(value: string, encoding: Encoding): string {
  switch (encoding) {
    case "raw":
      return value;
    case "json":
      return JSON.stringify(value).slice(1, -1);
    case "percent":
      return encodeURIComponent(value);
  }
}

/** The pieces as text; a secret not issued yet (the keys before the assume answers) stands as the token. */
function render(pieces: readonly Piece[], secrets: Secrets): string {
  return pieces
    .map((piece) => {
      if ("text" in piece) return piece.text;
      const value = secrets[piece.secret] ?? secrets.token ?? "";
      const encoded = encode(value, piece.encoding);
      if (piece.length === undefined) return encoded;
      const from = piece.from % Math.max(1, encoded.length - PIECE);
      return encoded.slice(from, from + piece.length);
    })
    .join("");
}

const element = (body: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1];

/** The keys of this run: those in the assume's answer, or the world's latest session once issued. */
function runSecrets(token: string, body?: string): Secrets {
  const session = [...world.sessions.values()].at(-1);
  const fromBody = (tag: string) => (body === undefined ? undefined : element(body, tag));
  const secrets: Secrets = { token, signature: token.split(".")[2] ?? "" };
  const pick = (name: "secretAccessKey" | "sessionToken" | "accessKeyId", tag: string) => {
    const value = fromBody(tag) ?? (fresh(session) ? session?.[name] : undefined);
    if (value !== undefined) secrets[name] = value;
  };
  pick("secretAccessKey", "SecretAccessKey");
  pick("sessionToken", "SessionToken");
  pick("accessKeyId", "AccessKeyId");
  return secrets;
}
/** How many sessions the world had before this run: later ones are this run's. */
let sessionsBefore = 0;
const fresh = (session: object | undefined) => session !== undefined && world.sessions.size > sessionsBefore;

type AnswerCase = typeof answerArb extends fc.Arbitrary<infer T> ? T : never;

function faultFor(answer: AnswerCase, token: string): Fault {
  const { how, action } = answer;
  switch (how.kind) {
    case "rewrite":
      return {
        action,
        times: Number.POSITIVE_INFINITY,
        rewrite: (body) => {
          const text = render(how.pieces, runSecrets(token, body));
          if (how.field === "(insert)") {
            const at = Math.floor(how.at * body.length);
            return body.slice(0, at) + text + body.slice(at);
          }
          return body.replace(
            new RegExp(`(<${how.field}>)[^<]*(</${how.field}>)`),
            (_, open, close) => open + text + close,
          );
        },
      };
    case "answer": {
      const headers: Record<string, string> = {};
      if (how.contentType !== undefined) headers["content-type"] = how.contentType;
      if (how.errorType !== undefined)
        headers["x-amzn-errortype"] = how.errorType === "secret" ? token : how.errorType;
      return {
        action,
        times: Number.POSITIVE_INFINITY,
        answer: { status: how.status, headers, body: () => render(how.pieces, runSecrets(token)) },
      };
    }
    case "error":
      return {
        action,
        times: Number.POSITIVE_INFINITY,
        code: how.code,
        message: () => render(how.pieces, runSecrets(token)),
      };
  }
}

/** Every file under `dir` (relative path -> content hash), folders as entries of their own. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    if (entry.isDirectory()) out.set(`${rel}/`, "dir");
    else if (entry.isSymbolicLink()) out.set(rel, "symlink");
    else out.set(rel, createHash("sha256").update(readFileSync(full)).digest("hex"));
  }
  return out;
}

/** What changed between two listings, leaving out OUTPUT_DIR and the git exclude file. */
function changedOutside(before: Map<string, string>, after: Map<string, string>): string[] {
  const allowed = (rel: string) =>
    rel === "clone/.aws-oidc/" || rel.startsWith("clone/.aws-oidc/") || rel === "clone/.git/info/exclude";
  const changed: string[] = [];
  for (const [rel, hash] of after) if (before.get(rel) !== hash && !allowed(rel)) changed.push(rel);
  for (const rel of before.keys()) if (!after.has(rel) && !allowed(rel)) changed.push(`${rel} (removed)`);
  return changed;
}

describe("property (a): any answer, shaped or not", () => {
  it(`leaks no secret, ends with a contract status and a ✖ line, writes only OUTPUT_DIR (${RUNS} runs)`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(answerArb, async (answer) => {
        world.clearFaults();
        world.clearRequests();
        const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bb-answers-")));
        try {
          const clone = path.join(root, "clone");
          for (const dir of [clone, path.join(root, "home"), path.join(root, "tmp")]) mkdirSync(dir);
          await run("git", ["init", "-q", clone], { env: { PATH: process.env.PATH ?? "" }, cwd: clone });
          const before = listing(root);

          sessionsBefore = world.sessions.size;
          const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
          world.fault(faultFor(answer, token));
          const env = bitbucketEnv({
            cloneDir: clone,
            token,
            endpoint: world.endpoint,
            variables: {
              AWS_ROLE_ARN: roleArn,
              HOME: path.join(root, "home"),
              TMPDIR: path.join(root, "tmp"),
              DEBUG: String(answer.debug),
              VERIFY: String(answer.verify),
              AWS_MAX_ATTEMPTS: "2",
              BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01",
            },
          });
          // The leak guard inside runBuiltPipe throws on any piece of any secret the world issued.
          const result = await runBuiltPipe(env, clone);
          statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);

          expect([0, 1, 2, 3, 4], result.output).toContain(result.status);
          const last = result.stdout.trimEnd().split("\n").at(-1) ?? "";
          if (result.status !== 0) expect(last, result.output).toMatch(/^✖ /);
          else expect(last, result.output).toMatch(/^✔ /);
          expect(result.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

          const outputsJson = path.join(clone, ".aws-oidc", "outputs.json");
          const outputs = statSync(outputsJson, { throwIfNoEntry: false })
            ? readFileSync(outputsJson, "utf8")
            : "";
          const secrets = runSecrets(token);
          for (const name of ["token", "signature", "secretAccessKey", "sessionToken"] as const) {
            const value = secrets[name];
            if (value === undefined) continue;
            expect(piecesIn(result.output, value), `${name} in the log`).toEqual([]);
            expect(piecesIn(outputs, value), `${name} in outputs.json`).toEqual([]);
          }

          expect(changedOutside(before, listing(root))).toEqual([]);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS },
    );
    // The answers reached every outcome: not a property that only ever saw one path.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([0, 1, 3, 4]));
  }, 300_000);
});
