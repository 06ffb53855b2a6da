// Run from a shell that sourced the pipe's env file: the AWS SDK for JavaScript's default
// credential chain (environment, profiles, web identity), as a user's build tool would use it.
// AWS_ENDPOINT_URL points it (and the STS client inside its web-identity provider) at the test world.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
process.stdout.write(`${identity.Arn}\n`);
