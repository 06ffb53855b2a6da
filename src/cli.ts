import { CLAIMS_USAGE, runClaims } from "./claims.js";
import { VARIABLES, variablesHelp } from "./config/variables.js";
import {
  type ErrorKind,
  inputError,
  internalError,
  isPipeError,
  type PipeError,
  REPORT_A_BUG,
} from "./errors.js";
import { createLog, type Log } from "./log.js";
import { runPipe } from "./pipe.js";
import { TOKEN_VARIABLE } from "./token.js";

/** Built when asked for: a pipe run never formats it. */
const usage =
  () => `bitbucket-aws-oidc ${PIPE_VERSION}: short-lived AWS credentials for a Bitbucket Pipelines step through OpenID Connect.

Usage:
  bitbucket-aws-oidc                 run the pipe (variables: see README.md)
  bitbucket-aws-oidc claims [--format text|json]
                                     print the step token's claims and the trust-policy Condition that admits it
  bitbucket-aws-oidc template [flags]
                                     print a CloudFormation template for the AWS side (template --help)
  bitbucket-aws-oidc [command] --help | --version

Variables of the pipe ((*) = required; README.md says more):
${variablesHelp()}`;

const HELP = new Set(["--help", "-h"]);
const VERSION = new Set(["--version", "-v"]);

async function usageOf(command: string): Promise<string> {
  if (command === "claims") return CLAIMS_USAGE;
  if (command === "template") return (await import("./template/index.js")).TEMPLATE_USAGE;
  return `${usage()}\n`;
}

/** `--help`/`--version` anywhere in a command's arguments: what people type when a command puzzles them. */
async function helpOrVersion(command: string, args: readonly string[]): Promise<string | undefined> {
  // Everything after `--` is data, not a request for help.
  const own = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (own.some((arg) => HELP.has(arg))) return usageOf(command);
  if (own.some((arg) => VERSION.has(arg))) return `${PIPE_VERSION}\n`;
  return undefined;
}

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
  // With detail lines, the problem heads them as an ERROR line and the ✖ line says what to do;
  // without, the ✖ line carries both. Either way the problem is said once.
  const listed = failure.details.length > 0;
  if (listed) {
    log.detail(`ERROR: ${failure.message}`);
    for (const line of failure.details) log.detail(line);
  }
  // Where it failed, for a report: the frames only. The message is said above, in the form
  // that is safe to print; a stack's own first lines repeat it raw, and an SDK parser's message
  // quotes the answer it could not read, credentials the pipe never got to know included.
  const stacks = [failure.cause, isPipeError(error) ? undefined : error];
  for (const stack of stacks) {
    if (!debug || !(stack instanceof Error) || !stack.stack) continue;
    log.debug(`${stack.name} (its message is above), at:`);
    for (const line of stack.stack.split("\n")) if (/^\s+at /.test(line)) log.debug(line);
  }
  // One line, whatever the message held (the log shows its line breaks escaped): the ✖ line is
  // what people and scripts grep for.
  const fix = failure.fix ?? "Fix what the lines above describe and run again.";
  log.failure((listed ? fix : `${failure.message} ${failure.fix ?? ""}`).trim());
  return failure.kind;
}

/** The only place that knows exit statuses (CONTRACT.md, "Exit status and messages"). */
const EXIT_STATUS: Record<ErrorKind, number> = { input: 2, refused: 3, transient: 4, internal: 1 };

/** Runs one command; its exit status. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const kind = await runCommand(argv, env, cwd);
  return kind === undefined ? 0 : EXIT_STATUS[kind];
}

/** Runs one command; the kind of the error that ended it, or undefined on success. */
async function runCommand(
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
    const answer =
      command === "help"
        ? await usageOf(rest[0] ?? "")
        : command === "claims" || command === "template"
          ? await helpOrVersion(command, rest)
          : command.startsWith("-")
            ? await helpOrVersion("", argv)
            : undefined;
    if (answer !== undefined) {
      process.stdout.write(answer);
      return undefined;
    }
    switch (command) {
      case "":
        log.info(`bitbucket-aws-oidc ${PIPE_VERSION} (Node ${process.versions.node})`);
        await runPipe({ env, cwd, log, now: Date.now });
        return undefined;
      case "claims":
        process.stdout.write(runClaims(env, rest));
        return undefined;
      case "template": {
        const { runTemplate } = await import("./template/index.js");
        const { output, warnings, notes } = runTemplate(rest, env);
        for (const note of notes) log.info(note);
        for (const warning of warnings) log.warn(warning);
        process.stdout.write(output.endsWith("\n") ? output : `${output}\n`);
        return undefined;
      }
      default:
        throw inputError(`Unknown command ${JSON.stringify(command)}.`, {
          fix: `Run with --help to see the commands.`,
        });
    }
  } catch (error) {
    return report(log, error, debug);
  }
}
