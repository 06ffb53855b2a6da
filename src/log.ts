import { writeSync } from "node:fs";
import pino from "pino";
import { escapeControl } from "./printable.js";
import { REDACTED, SecretScrubber } from "./redact.js";

/**
 * The log a person reads in the Bitbucket step: short `INFO:` lines, `✔` on success, `✖` with the
 * fix on failure. pino gives levels and structured debug fields with redaction by key; every
 * rendered line then passes one last scrub for known secret values (and account ids when masked),
 * so a secret that slips into a message or an AWS error text still never reaches the log, not
 * even a piece of it (src/redact.ts). Every call prints exactly one line: control characters in
 * what it is given are shown escaped, so untrusted text can never start a line of its own.
 */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string): void;
  warn(message: string): void;
  /** Lines that belong to a failure's explanation, printed as they are. */
  detail(message: string): void;
  success(message: string): void;
  failure(message: string): void;
  /** From now on, this value (and any 16-character piece of it, in any encoding) is removed wherever it would appear. */
  addSecret(value: string | undefined): void;
  /** A `user:password` pair the pipe builds: the password, the pair and its base64 become secrets. */
  addBasicPair(user: string, password: string): void;
  setMaskAccountIds(mask: boolean): void;
  setDebug(debug: boolean): void;
}

export { REDACTED };
export const MASKED_ACCOUNT = "************";

/** Field names whose values are secret wherever they appear in debug fields. */
const SECRET_KEYS = [
  "token",
  "Token",
  "SecretAccessKey",
  "secretAccessKey",
  "SessionToken",
  "sessionToken",
  "authorizationToken",
  "WebIdentityToken",
  "password",
  "authorization",
  "Authorization",
];

const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;

const PREFIX: Record<string, string> = {
  debug: "DEBUG: ",
  info: "INFO: ",
  warn: "WARNING: ",
  detail: "",
  success: "✔ ",
  failure: "✖ ",
};

export function createLog(options: { fd?: number; debug?: boolean } = {}): Log {
  const fd = options.fd ?? 1;
  const secrets = new SecretScrubber();
  let mask = false;

  // Secrets go first, before the escaping changes their form; the second pass catches a secret
  // whose control characters only the escaping put into a form the scrubber knows.
  const render = (text: string): string => {
    const out = secrets.scrub(escapeControl(secrets.scrub(text)));
    return mask ? out.replace(ACCOUNT_ID, MASKED_ACCOUNT) : out;
  };

  // Set once the reader of the log has gone (`| head -1` on a terminal): the run goes on without
  // its log, and its exit status still says how it ended.
  let readerGone = false;
  const sink = {
    write(line: string): void {
      if (readerGone) return;
      const { level, msg, ...fields } = JSON.parse(line) as { level: string; msg: string } & Record<
        string,
        unknown
      >;
      const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
      const text = `${PREFIX[level] ?? ""}${render(`${msg}${extra}`)}`;
      try {
        writeSync(fd, `${text}\n`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
        readerGone = true;
      }
    },
  };

  const logger = pino(
    {
      level: options.debug ? "debug" : "info",
      base: null,
      timestamp: false,
      customLevels: { detail: 31, success: 32, failure: 55 },
      formatters: { level: (label) => ({ level: label }) },
    },
    sink,
  );
  // Redaction by key is compiled when a run first prints debug fields (DEBUG: true), not on
  // every run: it is most of what creating the logger costs (~1 ms on Node 24).
  let withFields: pino.Logger<"detail" | "success" | "failure"> | undefined;
  const fieldsLogger = () =>
    (withFields ??= logger.child(
      {},
      { redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: REDACTED } },
    ));

  return {
    debug: (message, fields) => {
      if (!logger.isLevelEnabled("debug")) return;
      if (fields) fieldsLogger().debug(fields, message);
      else logger.debug(message);
    },
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    detail: (message) => logger.detail(message),
    success: (message) => logger.success(message),
    failure: (message) => logger.failure(message),
    addSecret: (value) => secrets.add(value),
    addBasicPair: (user, password) => secrets.addBasicPair(user, password),
    setMaskAccountIds: (value) => {
      mask = value;
    },
    setDebug: (value) => {
      logger.level = value ? "debug" : "info";
    },
  };
}
