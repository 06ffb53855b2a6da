import { expect } from "vitest";
import { PipeError } from "../../src/errors.ts";

/** What a PipeError thrown by `fn` looks like; fails the test when nothing (or something else) is thrown. */
export function caught(fn: () => unknown): PipeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PipeError);
    return error as PipeError;
  }
  throw new Error("expected a PipeError, nothing was thrown");
}
