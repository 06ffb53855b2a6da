/**
 * `npm run demo`: the pipe end to end on the local AWS world. Starts the OIDC issuer and the
 * STS emulator on 127.0.0.1, runs the built pipe in a temporary clone directory as Bitbucket
 * would, shows the log a Bitbucket user sees, then sources the env file in a real shell and asks
 * AWS who we are. Stops everything it started, whatever happens.
 */
import { bitbucketEnv, makeCloneDir, run, runBuiltPipe } from "../support/pipe.ts";
import { hasTool } from "../support/tools.ts";
import { DEFAULT_REPOSITORY_UUID, startWorld } from "./index.ts";

const step = (title: string) => process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
const indent = (text: string) => process.stdout.write(`${text.replace(/^/gm, "  │ ").trimEnd()}\n`);

const world = await startWorld();
const clone = await makeCloneDir();
let status = 0;
try {
  const roleArn = world.allowRepository(DEFAULT_REPOSITORY_UUID, { roleName: "deploy" });
  const token = await world.issuer.token({ repositoryUuid: DEFAULT_REPOSITORY_UUID, branchName: "main" });
  step(`Local AWS world on ${world.endpoint}: role ${roleArn} trusts repository ${DEFAULT_REPOSITORY_UUID}`);

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
  process.stdout.write("\nDemo finished: everything it started is stopped.\n");
} catch (error) {
  process.stderr.write(`\nDemo failed: ${(error as Error).message}\n`);
  status = 1;
} finally {
  await clone.remove();
  await world.close();
}
process.exitCode = status;
