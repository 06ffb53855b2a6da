/**
 * Every failure the pipe knows about is a PipeError with a kind. The kind alone decides the exit
 * status, and only src/index.ts turns it into one.
 */
export type ErrorKind = "input" | "refused" | "transient" | "internal";

export interface PipeErrorOptions {
  /** What the user should do about it: becomes the closing `✖` line. */
  fix?: string;
  /** Extra lines printed before the `✖` line (diagnosis, claims, conditions). Never secrets. */
  details?: readonly string[];
  cause?: unknown;
}

export class PipeError extends Error {
  readonly kind: ErrorKind;
  readonly fix: string | undefined;
  readonly details: readonly string[];

  constructor(kind: ErrorKind, message: string, options: PipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PipeError";
    this.kind = kind;
    this.fix = options.fix;
    this.details = options.details ?? [];
  }
}

export const inputError = (message: string, options?: PipeErrorOptions) =>
  new PipeError("input", message, options);
export const refusedError = (message: string, options?: PipeErrorOptions) =>
  new PipeError("refused", message, options);
export const transientError = (message: string, options?: PipeErrorOptions) =>
  new PipeError("transient", message, options);
export const internalError = (message: string, options?: PipeErrorOptions) =>
  new PipeError("internal", message, options);

/**
 * The variables a list of problems is about (each problem starts with its variable's name), so
 * that the closing line can say what to fix without repeating the problems listed above it.
 */
function variablesIn(problems: readonly string[]): string {
  const names = [...new Set(problems.flatMap((p) => /^[A-Z][A-Z0-9_]{2,}[A-Z0-9]\b/.exec(p)?.[0] ?? []))];
  if (names.length === 0) return "the variables listed above";
  const last = names.pop();
  return names.length === 0 ? `${last}` : `${names.join(", ")} and ${last}`;
}

/** Several input problems found at once (config validation reports all of them together). */
export class InputErrors extends PipeError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      "input",
      problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems with the pipe's variables`,
      {
        details: problems.length === 1 ? [] : problems.map((p) => `- ${p}`),
        fix: `Fix ${variablesIn(problems)} in the pipe's \`variables:\` and run the step again.`,
      },
    );
    this.problems = problems;
  }
}

export const isPipeError = (value: unknown): value is PipeError => value instanceof PipeError;

/** The fix of every error that can only be a bug of ours. */
export const REPORT_A_BUG =
  "This is a bug in the pipe: please report it with the output of a run with DEBUG: true.";

/** The same error with another message or more detail lines: kind, fix and cause are kept. */
export function amend(
  error: PipeError,
  change: { message?: string; details?: readonly string[] },
): PipeError {
  return new PipeError(error.kind, change.message ?? error.message, {
    details: change.details ?? error.details,
    ...(error.fix === undefined ? {} : { fix: error.fix }),
    cause: error.cause,
  });
}
