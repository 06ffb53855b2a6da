import { readFileSync } from "node:fs";
import { DEFAULT_CDK_QUALIFIER, DEFAULT_ROLE_NAME, parseTemplateOptions, UUID_HINT } from "./options.js";
import { buildTemplate, renderTemplate } from "./render.js";

/**
 * `template [flags]`: the CloudFormation template for the AWS side (the IAM OIDC provider and the
 * deployment role). Pure apart from reading `--ip-ranges FILE` and, with `--from-token`, the step
 * token from `env`: it returns the text, the warnings and the notes; the caller prints them.
 */

export type { CdkAccess, CodeArtifactAccess, EcrAccess, TemplateOptions } from "./options.js";
export { DEFAULT_CDK_QUALIFIER, DEFAULT_ROLE_NAME, parseTemplateOptions } from "./options.js";
export {
  buildTemplate,
  DEFAULT_PROVIDER_THUMBPRINT,
  PROVIDER_LOGICAL_ID,
  ROLE_LOGICAL_ID,
} from "./render.js";

export const TEMPLATE_USAGE = `Usage: bitbucket-aws-oidc template [flags] > bitbucket-oidc.yaml
Prints a CloudFormation template for the AWS side: the workspace's IAM OIDC identity provider
and a role that the steps of the given repositories can assume.

An AWS account holds one provider per workspace, and role names are unique in it. So:
  the first repository:  template --from-token                  (creates the provider and the role)
  each other one:        template --from-token --existing-provider-arn <ProviderArn output of
                         the first stack> --role-name <a name of its own>
  one role for several repositories: repeat --repository-uuid.
The UUIDs: ${UUID_HINT}, or --from-token in a step with \`oidc: true\`.

  --workspace NAME                 Bitbucket workspace (slug) (*)
  --workspace-uuid UUID            workspace UUID, with or without braces, or the whole audience (*)
  --repository-uuid UUID           repository allowed to assume the role (*, repeatable)
  --environment-uuid UUID          only deployment steps in this environment (repeatable)
  --audience AUD                   the step's custom \`oidc: audiences:\`, instead of the workspace's
                                   audience (repeatable; then --workspace-uuid is not needed)
  --existing-provider-arn ARN      reuse the workspace's IAM OIDC provider in this account
  --role-name NAME                 default ${DEFAULT_ROLE_NAME}
  --source-ip CIDR                 only requests from this range (repeatable)
  --ip-ranges FILE                 only Bitbucket's egress ranges from ip-ranges.atlassian.com JSON
  --max-session-duration SECONDS   3600..43200, default 3600
  --cdk-qualifier Q                default ${DEFAULT_CDK_QUALIFIER}; none: no CDK permissions
  --cdk-access full|bootstrap-roles  default full
  --read-only true|false           attach ReadOnlyAccess, default true
  --codeartifact none|read|publish default read
  --ecr none|pull|push             ECR login and images in this account and region, default none
  --from-token                     workspace, UUIDs (and, on a deployment step, its environment)
                                   from BITBUCKET_STEP_OIDC_TOKEN
  --format yaml|json               default yaml
  --help, --version
(*) required unless --from-token. Flags take --flag VALUE or --flag=VALUE.
`;

export interface TemplateResult {
  output: string;
  warnings: string[];
  /** How the flags were read, where it may surprise (printed as INFO lines). */
  notes: string[];
}

/** The `template` command: flags in, template text, warnings and notes out. Bad flags: an input error naming them. */
export function runTemplate(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): TemplateResult {
  const options = parseTemplateOptions(argv, env, readFile);
  const { template, warnings } = buildTemplate(options);
  return { output: renderTemplate(template, options.format), warnings, notes: options.notes };
}
