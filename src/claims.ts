import { claimLines } from "./diagnose.js";
import { inputError } from "./errors.js";
import { printableJson } from "./printable.js";
import { readStepClaims } from "./token.js";
import { conditionForClaims, issuerHostPath, trustPolicyDocument } from "./trust.js";

/**
 * The `claims` command: the token's non-secret claims and the trust-policy Condition that admits
 * this step, for building a role before the first real run. Calls nothing.
 */
export function runClaims(env: NodeJS.ProcessEnv, args: readonly string[] = []): string {
  const format = args.join(" ").replace("=", " ");
  const json = format === "--format json";
  if (args.length > 0 && !json && format !== "--format text") {
    throw inputError(`claims: unknown arguments ${JSON.stringify(args.join(" "))}.`, {
      fix: "Use `claims` or `claims --format json`.",
    });
  }
  const claims = readStepClaims(env);
  const condition = conditionForClaims(claims);
  if (json) return `${printableJson({ claims, condition }, 2)}\n`;
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
