import { runClaims } from "./claims.js";
import { outputDirFrom, VARIABLES } from "./config.js";
import {
  type ErrorKind,
  InputErrors,
  inputError,
  internalError,
  isPipeError,
  type PipeError,
  REPORT_A_BUG,
} from "./errors.js";
import { createLog, type Log } from "./log.js";
import { removeOutputFiles } from "./outputs/files.js";
import { runPipe } from "./pipe.js";
import { TOKEN_VARIABLE } from "./token.js";

const USAGE = `bitbucket-aws-oidc: short-lived AWS credentials for a Bitbucket Pipelines step through OpenID Connect.

Usage:
  bitbucket-aws-oidc                 run the pipe (variables: see README.md)
  bitbucket-aws-oidc claims [--format json]
                                     print the step token's claims and the trust-policy Condition that admits it
  bitbucket-aws-oidc template [flags]
                                     print a CloudFormation template for the AWS side (template --help)
  bitbucket-aws-oidc --version`;

const isTrue = (value: string | undefined) => value?.trim().toLowerCase() === "true";

/** Variables whose URLs may carry a `user:password@` part. */
const URL_VARIABLES = [
  VARIABLES.endpoint,
  VARIABLES.endpointSts,
  VARIABLES.endpointCodeartifact,
  VARIABLES.endpointEcr,
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
];

/**
 * Makes the step's token and the passwords in proxy and endpoint URLs unprintable before anything
 * can fail with them in a message. A proxy's password travels as base64 of `user:password`
 * (Proxy-Authorization), so that form is a secret too.
 */
function guardSecrets(log: Log, env: NodeJS.ProcessEnv): void {
  const token = env[TOKEN_VARIABLE]?.trim();
  if (token) {
    log.addSecret(token);
    for (const part of token.split(".")) if (part.length >= 20) log.addSecret(part);
  }
  for (const name of URL_VARIABLES) {
    const value = env[name]?.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (url.password === "") continue;
    log.addSecret(url.password);
    log.addBasicPair(url.username, url.password);
    try {
      log.addBasicPair(decodeURIComponent(url.username), decodeURIComponent(url.password));
    } catch {
      // Not percent-decodable: the raw form above is what is sent.
    }
  }
}

function report(log: Log, error: unknown, debug: boolean): ErrorKind {
  const failure: PipeError = isPipeError(error)
    ? error
    : internalError(`Unexpected error: ${error instanceof Error ? error.message : String(error)}`, {
        fix: REPORT_A_BUG,
      });
  const summary = failure instanceof InputErrors ? failure.problems.join(" ") : failure.message;
  if (failure.details.length > 0 && !(failure instanceof InputErrors && failure.problems.length === 1)) {
    log.detail(`ERROR: ${failure.message}`);
    for (const line of failure.details) log.detail(line);
  }
  // The log prints one line per call: a stack is split here so that it stays readable.
  const stacks = [failure.cause, isPipeError(error) ? undefined : error];
  for (const stack of stacks) {
    if (debug && stack instanceof Error && stack.stack)
      for (const line of stack.stack.split("\n")) log.debug(line);
  }
  // One line, whatever the message held (the log shows its line breaks escaped): the ✖ line is
  // what people and scripts grep for.
  log.failure(`${summary} ${failure.fix ?? ""}`.trim());
  return failure.kind;
}

/** Runs one command; the kind of the error that ended it, or undefined on success. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ErrorKind | undefined> {
  const [command = "", ...rest] = argv;
  const debug = isTrue(env[VARIABLES.debug]);
  // Commands print their result on stdout; their log goes to stderr so `template > stack.yaml` works.
  const log = createLog({ fd: command === "" ? 1 : 2, debug });
  log.setMaskAccountIds(isTrue(env[VARIABLES.maskAccountId]));
  guardSecrets(log, env);
  try {
    switch (command) {
      case "":
        await runPipe({ env, cwd, log, now: Date.now });
        return undefined;
      case "claims":
        process.stdout.write(runClaims(env, rest));
        return undefined;
      case "template": {
        const { runTemplate } = await import("./template.js");
        const { output, warnings } = runTemplate(rest, env);
        for (const warning of warnings) log.warn(warning);
        process.stdout.write(output.endsWith("\n") ? output : `${output}\n`);
        return undefined;
      }
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(`${USAGE}\n`);
        return undefined;
      case "--version":
      case "-v":
        process.stdout.write(`${PIPE_VERSION}\n`);
        return undefined;
      default:
        throw inputError(`Unknown command ${JSON.stringify(command)}.`, {
          fix: `Run with --help to see the commands.`,
        });
    }
  } catch (error) {
    const kind = report(log, error, debug);
    if (command === "") {
      const outputDir = outputDirFrom(env, cwd);
      if (outputDir !== undefined) removeOutputFiles(outputDir, env[VARIABLES.cloneDir]?.trim() || undefined);
    }
    return kind;
  }
}
