// node:util loads its parseArgs when the property is first read: read when `claims` runs, not on every run.
import util from "node:util";
import { claimLines } from "./diagnose.js";
import { inputError } from "./errors.js";
import { printableJson } from "./printable.js";
import { readStepClaims } from "./token.js";
import { conditionForClaims, issuerHostPath, trustPolicyDocument } from "./trust.js";

/**
 * The `claims` command: the token's non-secret claims and the trust-policy Condition that admits
 * this step, for building a role before the first real run. Calls nothing.
 */

export const CLAIMS_USAGE = `Usage: bitbucket-aws-oidc claims [--format text|json]
Prints the claims of the step's OIDC token (BITBUCKET_STEP_OIDC_TOKEN; none of them is secret)
and the trust-policy Condition that admits this step: its repository and, on a deployment step,
its environment. Calls nothing. Run it in a step with \`oidc: true\`.

  --format text|json   default text
  --help, --version
`;

const usageError = (message: string) =>
  inputError(message, { fix: "Run `claims` or `claims --format json` (`claims --help` says more)." });

function parseFormat(args: readonly string[]): "text" | "json" {
  const { values, positionals, tokens } = util.parseArgs({
    args: [...args],
    options: { format: { type: "string" } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const unknown = tokens.find((t) => t.kind === "option" && t.name !== "format");
  if (unknown?.kind === "option") throw usageError(`claims: unknown flag ${unknown.rawName}.`);
  if (positionals.length > 0) throw usageError(`claims: unexpected argument "${positionals[0]}".`);
  const format = values.format;
  if (format === undefined) return "text";
  if (format === "text" || format === "json") return format;
  throw usageError(
    typeof format === "string"
      ? `claims: --format must be text or json, not "${format}".`
      : "claims: --format needs a value.",
  );
}

export function runClaims(env: NodeJS.ProcessEnv, args: readonly string[] = []): string {
  const format = parseFormat(args);
  const claims = readStepClaims(env);
  const condition = conditionForClaims(claims);
  if (format === "json") return `${printableJson({ claims, condition }, 2)}\n`;
  const policy = trustPolicyDocument(
    `arn:aws:iam::<account id>:oidc-provider/${issuerHostPath(claims.iss)}`,
    condition,
  );
  return [
    "The step's OIDC token (claims, not secret):",
    ...claimLines(claims),
    "",
    "Trust-policy Condition that admits this step:",
    printableJson({ Condition: condition }, 2),
    "",
    "A whole trust policy with it (put your account id in the provider ARN):",
    printableJson(policy, 2),
    "",
  ].join("\n");
}
