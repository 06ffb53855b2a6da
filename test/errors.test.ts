import { describe, expect, it } from "vitest";
import {
  amend,
  InputErrors,
  inputError,
  internalError,
  isPipeError,
  PipeError,
  refusedError,
  transientError,
} from "../src/errors.ts";

/** The pipe's errors (src/errors.ts): a kind that decides the exit status, a fix, detail lines. */

describe("PipeError", () => {
  it("one maker per kind; the fix, the details and the cause kept", () => {
    const cause = new Error("underneath");
    const error = refusedError("AWS refused", { fix: "Do this.", details: ["line"], cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      kind: "refused",
      message: "AWS refused",
      fix: "Do this.",
      details: ["line"],
    });
    expect(error.cause).toBe(cause);
    expect([inputError("a"), transientError("b"), internalError("c")].map((e) => e.kind)).toEqual([
      "input",
      "transient",
      "internal",
    ]);
    expect(inputError("a")).toMatchObject({ fix: undefined, details: [] });
    expect("cause" in inputError("a")).toBe(false);
  });

  it("isPipeError tells it from any other error", () => {
    expect(isPipeError(internalError("x"))).toBe(true);
    expect(isPipeError(new Error("x"))).toBe(false);
    expect(isPipeError({ kind: "input", message: "forged" })).toBe(false);
  });

  it("amend changes the message or the details, and keeps kind, fix and cause", () => {
    const cause = new Error("c");
    const original = transientError("gave up", { fix: "Re-run.", details: ["d1"], cause });
    const amended = amend(original, { message: "For the profile dev: gave up" });
    expect(amended).toBeInstanceOf(PipeError);
    expect(amended).toMatchObject({
      kind: "transient",
      message: "For the profile dev: gave up",
      fix: "Re-run.",
    });
    expect(amended.details).toEqual(["d1"]);
    expect(amended.cause).toBe(cause);
    expect(amend(original, { details: ["d1", "d2"] }).details).toEqual(["d1", "d2"]);
    expect(amend(inputError("x"), {}).fix).toBeUndefined();
  });
});

describe("InputErrors", () => {
  it("one problem: it is the message, no list", () => {
    const error = new InputErrors(["AWS_REGION is required."]);
    expect(error).toMatchObject({ kind: "input", message: "AWS_REGION is required.", details: [] });
    expect(error.fix).toBe("Fix AWS_REGION in the pipe's `variables:` and run the step again.");
  });

  it("several: counted in the message, listed in the details, each variable named once in the fix", () => {
    const error = new InputErrors([
      "AWS_REGION is required.",
      "VERIFY must be true or false.",
      "AWS_REGION again.",
      "CODEARTIFACT_TOOLS: unknown tool.",
    ]);
    expect(error.message).toBe("4 problems with the pipe's variables");
    expect(error.details).toEqual([
      "- AWS_REGION is required.",
      "- VERIFY must be true or false.",
      "- AWS_REGION again.",
      "- CODEARTIFACT_TOOLS: unknown tool.",
    ]);
    expect(error.fix).toBe(
      "Fix AWS_REGION, VERIFY and CODEARTIFACT_TOOLS in the pipe's `variables:` and run the step again.",
    );
    expect(error.problems).toHaveLength(4);
  });

  it("problems that name no variable: the fix points at the list", () => {
    expect(new InputErrors(["something odd", "another"]).fix).toBe(
      "Fix the variables listed above in the pipe's `variables:` and run the step again.",
    );
  });
});
