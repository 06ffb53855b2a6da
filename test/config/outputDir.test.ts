import { describe, expect, it } from "vitest";
import { checkIniSafe, iniValueProblem, resolveOutputDir } from "../../src/config/outputDir.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { Problems } from "../../src/config/read.ts";
import { base, problems } from "../support/config.ts";

/** OUTPUT_DIR (src/config/outputDir.ts): where the files go, and what makes the folder safe. */

const resolved = (env: NodeJS.ProcessEnv, cwd = "/build") => {
  const found = new Problems();
  return { ...resolveOutputDir(env, cwd, found), problems: found.list };
};

describe("through parseConfig", () => {
  it("keeps OUTPUT_DIR inside the clone directory", () => {
    expect(problems({ ...base, OUTPUT_DIR: "../elsewhere" })[0]).toMatch(
      /^OUTPUT_DIR .* inside BITBUCKET_CLONE_DIR/,
    );
    expect(problems({ ...base, OUTPUT_DIR: "/tmp/x" })[0]).toMatch(/^OUTPUT_DIR/);
    expect(problems({ ...base, OUTPUT_DIR: "." })[0]).toMatch(/^OUTPUT_DIR/);
    expect(parseConfig({ ...base, OUTPUT_DIR: "sub/creds" }, "/build").outputDir).toBe("/build/sub/creds");
  });
});

describe("resolveOutputDir", () => {
  it("resolves against the working directory, .aws-oidc by default, and keeps what the user wrote", () => {
    expect(resolved({})).toEqual({ outputDir: "/build/.aws-oidc", display: ".aws-oidc", problems: [] });
    expect(resolved({ OUTPUT_DIR: "out/creds" }, "/build/app")).toEqual({
      outputDir: "/build/app/out/creds",
      display: "out/creds",
      problems: [],
    });
  });

  it("anywhere without a clone directory (a laptop), only inside it with one", () => {
    expect(resolved({ OUTPUT_DIR: "/tmp/creds" }).problems).toEqual([]);
    expect(resolved({ OUTPUT_DIR: "/tmp/creds", BITBUCKET_CLONE_DIR: "/build" }).problems[0]).toMatch(
      /^OUTPUT_DIR \(\/tmp\/creds\) must be a folder inside BITBUCKET_CLONE_DIR/,
    );
  });

  it("refuses a path over 1024 characters or a folder name over 255, without echoing it", () => {
    const long = "a/".repeat(600);
    const tooLong = resolved({ OUTPUT_DIR: long });
    expect(tooLong.problems[0]).toMatch(/^OUTPUT_DIR is 1200 characters long; it may have at most 1024/);
    expect(tooLong.problems[0]).not.toContain(long);
    expect(tooLong.outputDir).toBe("/build/.aws-oidc");
    expect(resolved({ OUTPUT_DIR: "x".repeat(256) }).problems[0]).toMatch(/with a folder name of 256/);
    expect(resolved({ OUTPUT_DIR: "x".repeat(255) }).problems).toEqual([]);
  });

  it("refuses a path on more than one line", () => {
    expect(resolved({ OUTPUT_DIR: "a\nb" }).problems[0]).toBe(
      'OUTPUT_DIR must be a folder path on one line, got "a\\nb".',
    );
  });
});

describe("the SDKs' INI reader", () => {
  it("names what it would read back differently", () => {
    expect(iniValueProblem("/build/.aws-oidc/web-identity-token")).toBeUndefined();
    expect(iniValueProblem("/build/a #b")).toBe("a blank followed by ; or #, which starts a comment");
    expect(iniValueProblem("/build/a;b")).toBeUndefined();
    expect(iniValueProblem(" /build")).toBe("leading or trailing blanks");
    expect(iniValueProblem("/build/a\tb")).toBe("a line break or another control character");
  });

  it("checkIniSafe: a folder that aws-config cannot name is refused for profile runs", () => {
    const found = new Problems();
    checkIniSafe({ outputDir: "/build/creds ;x", display: "creds ;x" }, found);
    expect(found.list[0]).toMatch(/^OUTPUT_DIR \(creds ;x\) cannot be written into aws-config/);
    expect(
      problems({
        ...base,
        OUTPUT_DIR: "creds ;x",
        CREDENTIALS_MODE: "web-identity",
        AWS_PROFILES: `dev=${base.AWS_ROLE_ARN}`,
      })[0],
    ).toMatch(/cannot be written into aws-config/);
    expect(parseConfig({ ...base, OUTPUT_DIR: "creds ;x" }, "/build").outputDir).toBe("/build/creds ;x");
  });
});
