import { expect } from "vitest";
import { parseConfig } from "../../src/config/parse.ts";
import { Problems } from "../../src/config/read.ts";
import { InputErrors } from "../../src/errors.ts";

/** For the config's tests (test/config/): a valid start, and the problems a parse finds. */

export const ROLE = "arn:aws:iam::123456789012:role/deploy";
export const base = { AWS_ROLE_ARN: ROLE, AWS_REGION: "ap-southeast-2", BITBUCKET_CLONE_DIR: "/build" };

/** Every problem parseConfig finds in `env` (working directory /build); fails when there is none. */
export function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseConfig(env, "/build");
  } catch (error) {
    expect(error).toBeInstanceOf(InputErrors);
    return [...(error as InputErrors).problems];
  }
  throw new Error("expected the configuration to be refused");
}

/** What one of config/'s parsers returns for `env`, and the problems it added. */
export function parsedBy<T>(
  parse: (env: NodeJS.ProcessEnv, problems: Problems) => T,
  env: NodeJS.ProcessEnv,
) {
  const found = new Problems();
  const value = parse(env, found);
  return { value, problems: found.list };
}
