import { describe, expect, it } from "vitest";
import { formatsFor, withSlash } from "../../../src/features/codeartifact/login.ts";

/** The formats asked of CodeArtifact, and endpoint paths (src/features/codeartifact/login.ts). */

describe("formats", () => {
  it("asks for each format once, in the order of the tools", () => {
    expect(formatsFor(["npm"])).toEqual(["npm"]);
    expect(formatsFor(["pip", "yarn", "pnpm", "twine", "gradle", "maven", "nuget", "npm"])).toEqual([
      "pypi",
      "npm",
      "maven",
      "nuget",
    ]);
    expect(withSlash("https://x/npm/r")).toBe("https://x/npm/r/");
    expect(withSlash("https://x/npm/r/")).toBe("https://x/npm/r/");
  });
});
