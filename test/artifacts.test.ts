import { describe, expect, it } from "vitest";
import { artifactGlobs, globMatches } from "../src/artifacts.ts";

describe("artifact globs", () => {
  it("reads both forms of artifacts: and flow lists", () => {
    const yaml = `pipelines:
  default:
    - step:
        oidc: true
        script:
          - pipe: acme/bitbucket-aws-oidc:0.1.0
        artifacts:
          - dist/**
          - "**/*.log"   # logs
    - step:
        artifacts:
          download: false
          paths:
            - '.aws-oidc/**'
    - step:
        artifacts: [reports/*.xml, "coverage/**"]
`;
    expect(artifactGlobs(yaml)).toEqual([
      "dist/**",
      "**/*.log",
      ".aws-oidc/**",
      "reports/*.xml",
      "coverage/**",
    ]);
  });

  it("matches like Bitbucket's Ant-style globs", () => {
    const matches = (glob: string, file: string) => globMatches(glob, file);
    expect(matches("**", ".aws-oidc/env")).toBe(true);
    expect(matches("**/*", ".aws-oidc/env")).toBe(true);
    expect(matches(".aws-oidc/**", ".aws-oidc/env")).toBe(true);
    expect(matches(".aws-oidc/*", ".aws-oidc/env")).toBe(true);
    expect(matches("*", ".aws-oidc/env")).toBe(false);
    expect(matches("dist/**", ".aws-oidc/env")).toBe(false);
    expect(matches("**/*.log", ".aws-oidc/env")).toBe(false);
    expect(matches(".aws-oidc/e?v", ".aws-oidc/env")).toBe(true);
  });
});
