/**
 * `npm run demo`: the pipe end to end on the local AWS world. Starts the OIDC issuer and the
 * STS emulator on 127.0.0.1, runs the built pipe in a temporary clone directory as Bitbucket
 * would, shows the log a Bitbucket user sees, then sources the env file in a real shell and asks
 * AWS who we are. Then the CodeArtifact variant: the pipe logs npm in to a local CodeArtifact
 * repository and `npm install` takes a package from it. `npm run demo -- --codeartifact` shows
 * only that part. Stops everything it started, whatever happens.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bitbucketEnv, makeCloneDir, run, runBuiltPipe } from "../support/pipe.ts";
import { hasTool } from "../support/tools.ts";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, PACKAGES, startRegistries, startWorld } from "./index.ts";

const step = (title: string) => process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
const indent = (text: string) => process.stdout.write(`${text.replace(/^/gm, "  │ ").trimEnd()}\n`);

const onlyCodeArtifact = process.argv.includes("--codeartifact");
const world = await startWorld();
const registries = startRegistries(world);
const clone = await makeCloneDir();
let status = 0;
try {
  const roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID, { roleName: "deploy" });
  const token = await world.issuer.token({ repositoryUuid: DEFAULT_REPOSITORY_UUID, branchName: "main" });
  step(`Local AWS world on ${world.endpoint}: role ${roleArn} trusts repository ${DEFAULT_REPOSITORY_UUID}`);
  if (!onlyCodeArtifact) await coreDemo(roleArn, token);
  await codeArtifactDemo(roleArn);
  process.stdout.write("\nDemo finished: everything it started is stopped.\n");
} catch (error) {
  process.stderr.write(`\nDemo failed: ${(error as Error).message}\n`);
  status = 1;
} finally {
  registries.stop();
  await clone.remove();
  await world.close();
}
process.exitCode = status;

async function coreDemo(roleArn: string, token: string): Promise<void> {
  step("bitbucket-pipelines.yml step: pipe: bitbucket-aws-oidc (AWS_ROLE_ARN, AWS_REGION)");
  const env = bitbucketEnv({
    cloneDir: clone.dir,
    token,
    endpoint: world.endpoint,
    variables: { AWS_ROLE_ARN: roleArn },
  });
  const piped = await runBuiltPipe(env, clone.dir);
  indent(piped.output);
  if (piped.status !== 0) throw new Error(`the pipe exited ${piped.status}`);

  step("Next script line: . ./.aws-oidc/env && aws sts get-caller-identity");
  const shellEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: clone.dir,
    AWS_ENDPOINT_URL: world.endpoint,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const caller = hasTool("aws")
    ? "aws sts get-caller-identity --output json"
    : `node '${new URL("../support/sdk-identity.mjs", import.meta.url).pathname}'`;
  const used = await run("sh", ["-c", `. ./.aws-oidc/env && ${caller}`], { env: shellEnv, cwd: clone.dir });
  indent(used.output);
  if (used.status !== 0) throw new Error(`the AWS call exited ${used.status}`);

  step("What the AWS world received");
  for (const r of world.requests) indent(`${r.service} ${r.action} -> ${r.status}`);

  step("A step whose repository the role does not trust (exit 3, with the diagnosis)");
  const other = await world.issuer.token({ repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" });
  const refused = await runBuiltPipe({ ...env, BITBUCKET_STEP_OIDC_TOKEN: other }, clone.dir);
  indent(refused.output);
  indent(`exit status ${refused.status}`);
  if (refused.status !== 3) throw new Error(`expected exit 3, got ${refused.status}`);
}

/** The motivating step: assume the role, log npm in to CodeArtifact, then `npm ci`-style installs. */
async function codeArtifactDemo(roleArn: string): Promise<void> {
  world.codeartifact.addDomain({ domain: "acme", owner: DEFAULT_ACCOUNT, repositories: ["npm-store"] });
  step("CodeArtifact: pipe with CODEARTIFACT_DOMAIN: acme, CODEARTIFACT_REPOSITORY: npm-store");
  const token = await world.issuer.token({ repositoryUuid: DEFAULT_REPOSITORY_UUID, branchName: "main" });
  const env = bitbucketEnv({
    cloneDir: clone.dir,
    token,
    endpoint: world.endpoint,
    variables: { AWS_ROLE_ARN: roleArn, CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "npm-store" },
  });
  world.clearRequests();
  const piped = await runBuiltPipe(env, clone.dir);
  indent(piped.output);
  if (piped.status !== 0) throw new Error(`the pipe exited ${piped.status}`);
  step("What the AWS world received (one round trip after the assume)");
  for (const r of world.requests) indent(`${r.service} ${r.action} -> ${r.status}`);

  step(
    `Next script lines: . ./.aws-oidc/env && npm install ${PACKAGES.npmScoped.name} ${PACKAGES.npmUnscoped.name}`,
  );
  const app = path.join(clone.dir, "app");
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, "package.json"), '{ "name": "app", "version": "1.0.0", "private": true }\n');
  const home = path.join(clone.dir, ".home");
  mkdirSync(home, { recursive: true });
  const shellEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    npm_config_cache: path.join(home, ".npm"),
    NPM_CONFIG_UPDATE_NOTIFIER: "false",
  };
  const installed = await run(
    "sh",
    [
      "-c",
      `. ./.aws-oidc/env && cd app && npm install --no-audit --no-fund ${PACKAGES.npmScoped.name} ${PACKAGES.npmUnscoped.name} && node -p "require('${PACKAGES.npmScoped.name}') + ' / ' + require('${PACKAGES.npmUnscoped.name}')"`,
    ],
    { env: shellEnv, cwd: clone.dir },
  );
  indent(installed.output);
  if (installed.status !== 0) throw new Error(`npm install exited ${installed.status}`);
  step("What the registry received (every request carried the issued token)");
  for (const r of registries.requests)
    indent(`${r.method} ${r.format} ${r.path} -> ${r.status} (${r.credential})`);
}
