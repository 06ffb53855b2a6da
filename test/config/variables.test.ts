import { describe, expect, it } from "vitest";
import { REGISTRY, rowsFor, VARIABLES, variablesHelp } from "../../src/config/variables.ts";

describe("the registry", () => {
  it("has one row per variable, its key's name in VARIABLES", () => {
    const names = Object.values(REGISTRY).map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    for (const [key, row] of Object.entries(REGISTRY))
      expect(VARIABLES[key as keyof typeof VARIABLES]).toBe(row.name);
  });

  it("--help lists exactly the pipe's own variables, required ones marked (*)", () => {
    const listed = variablesHelp()
      .split("\n")
      .map((line) => /^ {2}([A-Z][A-Z0-9_]*)( \(\*\))? /.exec(line));
    expect(listed.map((m) => m?.[1])).toEqual(rowsFor("pipe").map((row) => row.name));
    expect(listed.filter((m) => m?.[2] !== undefined).map((m) => m?.[1])).toEqual([
      "AWS_ROLE_ARN",
      "AWS_REGION",
    ]);
  });
});
