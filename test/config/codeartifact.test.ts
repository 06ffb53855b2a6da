import { describe, expect, it } from "vitest";
import { CODEARTIFACT_TOOLS, parseCodeArtifact } from "../../src/config/codeartifact.ts";
import { parsedBy } from "../support/config.ts";

/** The CODEARTIFACT_* variables (src/config/codeartifact.ts): which repository, which tools. */

const ca = { CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "store" };

describe("parseCodeArtifact", () => {
  it("off without a domain and a repository; its other variables are then a mistake", () => {
    expect(parsedBy(parseCodeArtifact, {})).toEqual({ value: undefined, problems: [] });
    expect(
      parsedBy(parseCodeArtifact, {
        CODEARTIFACT_DOMAIN_OWNER: "111111111111",
        CODEARTIFACT_NPM_SCOPE: "@acme",
        CODEARTIFACT_DURATION_SECONDS: "900",
      }).problems,
    ).toEqual([
      "CODEARTIFACT_DOMAIN_OWNER is set but CodeArtifact is off: set CODEARTIFACT_DOMAIN and CODEARTIFACT_REPOSITORY too.",
      "CODEARTIFACT_NPM_SCOPE is set but CodeArtifact is off: set CODEARTIFACT_DOMAIN and CODEARTIFACT_REPOSITORY too.",
      "CODEARTIFACT_DURATION_SECONDS is set but CodeArtifact is off: set CODEARTIFACT_DOMAIN and CODEARTIFACT_REPOSITORY too.",
    ]);
  });

  it("npm by default; tools in any case, each once, in the order given", () => {
    expect(parsedBy(parseCodeArtifact, ca).value?.tools).toEqual(["npm"]);
    expect(
      parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_TOOLS: "Maven,pip maven" }).value?.tools,
    ).toEqual(["maven", "pip"]);
    expect(
      parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_TOOLS: CODEARTIFACT_TOOLS.join(",") }).problems,
    ).toEqual([]);
    expect(parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_TOOLS: " , " }).problems[0]).toMatch(
      /^CODEARTIFACT_TOOLS names no tool/,
    );
  });

  it("checks the names' shapes and the owner's account id", () => {
    expect(
      parsedBy(parseCodeArtifact, {
        CODEARTIFACT_DOMAIN: "Acme",
        CODEARTIFACT_REPOSITORY: "-store",
        CODEARTIFACT_DOMAIN_OWNER: "acme",
      }).problems,
    ).toEqual([
      expect.stringMatching(/^CODEARTIFACT_DOMAIN must be a CodeArtifact domain name/),
      expect.stringMatching(/^CODEARTIFACT_REPOSITORY must be a CodeArtifact repository name/),
      'CODEARTIFACT_DOMAIN_OWNER must be a 12-digit AWS account id, got "acme".',
    ]);
    expect(parsedBy(parseCodeArtifact, { CODEARTIFACT_REPOSITORY: "store" }).problems).toEqual([
      "CODEARTIFACT_DOMAIN is required with CODEARTIFACT_REPOSITORY.",
    ]);
  });

  it("an npm scope only in lower case and only with an npm-family tool", () => {
    expect(parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_NPM_SCOPE: "@acme" }).value?.npmScope).toBe(
      "@acme",
    );
    expect(parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_NPM_SCOPE: "@Acme" }).problems[0]).toMatch(
      /^CODEARTIFACT_NPM_SCOPE must be an npm scope like @acme/,
    );
    expect(
      parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_NPM_SCOPE: "@acme", CODEARTIFACT_TOOLS: "pip" })
        .problems,
    ).toEqual(["CODEARTIFACT_NPM_SCOPE is set but CODEARTIFACT_TOOLS has no npm, pnpm or yarn."]);
  });

  it("duration: 0 (the role session's) by default, or 900-43200", () => {
    expect(parsedBy(parseCodeArtifact, ca).value?.durationSeconds).toBe(0);
    expect(
      parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_DURATION_SECONDS: "43200" }).value?.durationSeconds,
    ).toBe(43200);
    expect(parsedBy(parseCodeArtifact, { ...ca, CODEARTIFACT_DURATION_SECONDS: "60" }).problems[0]).toMatch(
      /^CODEARTIFACT_DURATION_SECONDS must be a whole number 0 \(as long as the role session\) or from 900 to 43200/,
    );
  });
});
