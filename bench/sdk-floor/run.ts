/**
 * The SDK floor: the least an SDK-based pipe can do. The two STS calls with @aws-sdk/client-sts
 * (the unsigned assume with the step's token, then GetCallerIdentity with its keys) and one 0600
 * file with the keys; with VERIFY=false, as the pipe's, only the assume. Region and endpoint come
 * from the environment, as the SDK reads them.
 * Bundled by bundleOptions (tsup.config.ts), the pipe's own build, with no stand-in but the
 * default credential chain, which neither call reaches; its code cache is made by the same trainer.
 */
import { writeFileSync } from "node:fs";
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

// A classic script has no top-level await.
async function run(): Promise<void> {
  const env = process.env;
  const assumed = await new STSClient({ maxAttempts: 1 }).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: env.AWS_ROLE_ARN,
      RoleSessionName: "sdk-floor",
      WebIdentityToken: env.BITBUCKET_STEP_OIDC_TOKEN,
    }),
  );
  const keys = assumed.Credentials;
  if (!keys?.AccessKeyId || !keys.SecretAccessKey || !keys.SessionToken) throw new Error("no credentials");
  const credentials = {
    accessKeyId: keys.AccessKeyId,
    secretAccessKey: keys.SecretAccessKey,
    sessionToken: keys.SessionToken,
  };
  if (env.VERIFY !== "false") {
    await new STSClient({ maxAttempts: 1, credentials }).send(new GetCallerIdentityCommand({}));
  }
  writeFileSync(
    env.SDK_FLOOR_OUTPUT ?? "sdk-floor.env",
    `export AWS_ACCESS_KEY_ID='${credentials.accessKeyId}'\nexport AWS_SECRET_ACCESS_KEY='${credentials.secretAccessKey}'\nexport AWS_SESSION_TOKEN='${credentials.sessionToken}'\n`,
    { mode: 0o600 },
  );
}

void run();
