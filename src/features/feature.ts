import type { AwsContext, Credentials } from "../aws/clients.js";
import type { Config } from "../config/parse.js";
import type { Log } from "../log.js";
import type { Contribution } from "../outputs/render.js";

/**
 * What runs after the assume, concurrently with the verification: each optional part of the
 * contract (CodeArtifact, ECR) is a Feature that turns the default credentials into a Contribution
 * to the outputs. Features call AWS only through `aws` (one retry policy) and never write files.
 */
export interface FeatureContext {
  aws: AwsContext;
  config: Config;
  /** The default credentials (the chained role's when chaining). */
  credentials: Credentials;
  /** Their account, from the assumed-role ARN: known without waiting for the verification. */
  accountId: string;
  log: Log;
}

export interface Feature {
  /** For messages: "CodeArtifact", "ECR". */
  name: string;
  run(context: FeatureContext): Promise<Contribution>;
}
