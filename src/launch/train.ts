/**
 * `node train-code-cache.js`: makes the code cache the launcher beside it reads, as the image's
 * build does (Dockerfile). It runs the bundle once in this process, a whole run with verification
 * and a CodeArtifact login for npm (the default tool) against a stand-in for STS and CodeArtifact on
 * 127.0.0.1 (no AWS answers during a build), and then writes V8's code for the script and every
 * function the run compiled (bundle.ts's CODE_CACHE_FILE). Nothing of the run is kept but that
 * code: V8's code cache holds no values. Measured: a plain run is as quick with CodeArtifact's
 * functions in the cache (1.00 x), a CodeArtifact run 0.965 x.
 *
 * The stand-in answers the calls such a run makes, with made-up keys and tokens for a made-up
 * account; the step's token is unsigned (the pipe reads its claims; only STS checks its signature).
 * The run's files go to a temporary folder, removed at exit. A run that fails writes no cache and
 * exits with its status, so the build stops.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { CODE_CACHE_FILE, runBundle } from "./bundle.js";

const ACCOUNT = "123456789012";
const ROLE = "code-cache-training";
const CODEARTIFACT_DOMAIN = "training";
const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");
const escapeXml = (value: string) => value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const randomOf = (alphabet: string, length: number) =>
  Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");

/** A token with the claims Bitbucket's have; its signature is random bytes. */
function stepToken(nowSeconds: number): string {
  const workspace = `{${randomUUID()}}`;
  const repository = `{${randomUUID()}}`;
  const step = `{${randomUUID()}}`;
  const claims = {
    sub: `${repository}:${step}`,
    stepUuid: step,
    iss: "https://api.bitbucket.org/2.0/workspaces/training/pipelines-config/identity/oidc",
    branchName: "main",
    aud: `ari:cloud:bitbucket::workspace/${workspace.slice(1, -1)}`,
    workspaceUuid: workspace,
    pipelineUuid: `{${randomUUID()}}`,
    repositoryUuid: repository,
    exp: nowSeconds + 3600,
    iat: nowSeconds,
  };
  const header = { alg: "RS256", kid: "code-cache-training", typ: "JWT" };
  return [
    base64url(JSON.stringify(header)),
    base64url(JSON.stringify(claims)),
    base64url(randomBytes(256)),
  ].join(".");
}

function stsAnswer(action: string, result: string): string {
  return `<${action}Response xmlns="${STS_NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>\n`;
}

type Answer = { status: number; type: string; body: string };

/** CodeArtifact as a login meets it: a token for the domain, then the repository's endpoint. */
function codeArtifactAnswer(url: URL): Answer | undefined {
  const json = (value: unknown): Answer => ({
    status: 200,
    type: "application/json",
    body: JSON.stringify(value),
  });
  if (url.pathname === "/v1/authorization-token") {
    return json({
      authorizationToken: randomBytes(600).toString("base64url"),
      expiration: Math.floor(Date.now() / 1000) + 43200,
    });
  }
  if (url.pathname === "/v1/repository/endpoint") {
    const format = url.searchParams.get("format") ?? "";
    return json({
      repositoryEndpoint: `https://${CODEARTIFACT_DOMAIN}-${ACCOUNT}.d.codeartifact.us-east-1.amazonaws.com/${encodeURIComponent(format)}/${CODEARTIFACT_DOMAIN}/`,
    });
  }
  return undefined;
}

/** STS as a run with verification meets it: the assume (for the run and for its proofs), then whoami. */
function stsAnswerFor(form: URLSearchParams, session: { arn: string }): Answer {
  const action = form.get("Action") ?? "";
  if (action === "AssumeRoleWithWebIdentity") {
    const name = form.get("RoleSessionName") ?? "";
    session.arn = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/${name}`;
    const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    return {
      status: 200,
      type: "text/xml",
      body: stsAnswer(
        action,
        `<Credentials><AccessKeyId>ASIA${randomOf("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}</AccessKeyId>` +
          `<SecretAccessKey>${randomOf("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)}</SecretAccessKey>` +
          `<SessionToken>${randomBytes(300).toString("base64")}</SessionToken>` +
          `<Expiration>${expiration}</Expiration></Credentials>` +
          `<SubjectFromWebIdentityToken>training</SubjectFromWebIdentityToken>` +
          `<AssumedRoleUser><AssumedRoleId>AROA${randomOf("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17)}:${escapeXml(name)}</AssumedRoleId>` +
          `<Arn>${escapeXml(session.arn)}</Arn></AssumedRoleUser>` +
          `<Provider>arn:aws:iam::${ACCOUNT}:oidc-provider/api.bitbucket.org/2.0/workspaces/training/pipelines-config/identity/oidc</Provider>` +
          `<Audience>training</Audience>`,
      ),
    };
  }
  if (action === "GetCallerIdentity") {
    return {
      status: 200,
      type: "text/xml",
      body: stsAnswer(
        action,
        `<UserId>AROATRAINING:training</UserId><Account>${ACCOUNT}</Account><Arn>${escapeXml(session.arn)}</Arn>`,
      ),
    };
  }
  return {
    status: 400,
    type: "text/xml",
    body: `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the training stand-in does not answer ${escapeXml(action)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>\n`,
  };
}

/** STS and CodeArtifact on one port of 127.0.0.1 (AWS_ENDPOINT_URL points every client there). */
function standInAws(): Promise<{ endpoint: string }> {
  const session = { arn: "" };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const { status, type, body } =
        codeArtifactAnswer(url) ??
        stsAnswerFor(new URLSearchParams(Buffer.concat(chunks).toString("utf8")), session);
      // One connection per request: an idle keep-alive socket would hold a run that ends on its own.
      response.writeHead(status, { "content-type": type, connection: "close" });
      response.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.unref();
      resolve({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

/** The environment of a step, pointed at the stand-in; nothing of the build's AWS, Bitbucket or proxy settings. */
function trainingEnvironment(endpoint: string, work: string): void {
  for (const name of Object.keys(process.env)) {
    if (/^(AWS_|BITBUCKET_)|^(https?|no|all)_proxy$/i.test(name)) delete process.env[name];
  }
  Object.assign(process.env, {
    BITBUCKET_STEP_OIDC_TOKEN: stepToken(Math.floor(Date.now() / 1000)),
    BITBUCKET_CLONE_DIR: work,
    BITBUCKET_REPO_SLUG: "training",
    BITBUCKET_BUILD_NUMBER: "1",
    AWS_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpoint,
    AWS_CONFIG_FILE: path.join(work, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(work, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    CODEARTIFACT_DOMAIN,
    CODEARTIFACT_REPOSITORY: CODEARTIFACT_DOMAIN,
  });
}

// CommonJS has no top-level await: the run starts once the stand-in listens.
void standInAws().then(({ endpoint }) => {
  const work = mkdtempSync(path.join(os.tmpdir(), "bitbucket-aws-oidc-training-"));
  trainingEnvironment(endpoint, work);
  process.chdir(work);
  process.argv = [process.argv[0] ?? "node", path.join(__dirname, "index.js")];
  let script: ReturnType<typeof runBundle> | undefined;
  process.on("exit", (status) => {
    rmSync(work, { recursive: true, force: true });
    if (status !== 0 || script === undefined) {
      process.stderr.write(
        `train-code-cache: the training run failed (exit ${status}); no code cache written.\n`,
      );
      return;
    }
    const cache = script.createCachedData();
    writeFileSync(path.join(__dirname, CODE_CACHE_FILE), cache);
    process.stderr.write(`train-code-cache: ${CODE_CACHE_FILE} written (${cache.length} bytes).\n`);
  });
  script = runBundle(__dirname, undefined);
});
