import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { resolveEndpoints } from "../../src/aws/endpoints.ts";
import { isPipeError, type PipeError } from "../../src/errors.ts";

/**
 * Endpoints from the shared AWS config file (src/aws/endpoints.ts), read through the SDK's own
 * loader as the SDK would, and held to the same rule as AWS_ENDPOINT_URL*.
 */

const dir = mkdtempSync(path.join(tmpdir(), "bb-endpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

let files = 0;
/** A config file of its own per test (the SDK's loader reads each path once). */
function useConfig(content: string, extra: Record<string, string> = {}) {
  const file = path.join(dir, `config-${++files}`);
  writeFileSync(file, content);
  process.env.AWS_CONFIG_FILE = file;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, extra);
}

const none = { sts: undefined, codeartifact: undefined, ecr: undefined };

describe("resolveEndpoints", () => {
  it("the variables' endpoints win; the config file is not read for them", async () => {
    useConfig("[default]\nendpoint_url = http://example.com\n");
    const fromVariables = { sts: "https://sts.example.com", codeartifact: undefined, ecr: undefined };
    expect(await resolveEndpoints(fromVariables, ["sts"])).toEqual(fromVariables);
  });

  it("takes a service's endpoint_url from the profile's services section, else the profile's own", async () => {
    useConfig(
      [
        "[default]",
        "services = local",
        "endpoint_url = https://all.example.com",
        "[services local]",
        "sts =",
        "  endpoint_url = http://127.0.0.1:4566",
        "",
      ].join("\n"),
    );
    expect(await resolveEndpoints(none, ["sts", "codeartifact"])).toEqual({
      sts: "http://127.0.0.1:4566",
      codeartifact: "https://all.example.com",
      ecr: undefined,
    });
  });

  it("reads the profile AWS_PROFILE names", async () => {
    useConfig("[default]\n\n[profile ci]\nendpoint_url = https://ci.example.com\n", { AWS_PROFILE: "ci" });
    expect((await resolveEndpoints(none, ["ecr"])).ecr).toBe("https://ci.example.com");
  });

  it("refuses plain http to a remote host before any request, never showing its password", async () => {
    useConfig("[default]\nendpoint_url = http://user:s3cret@sts.example.com\n");
    const error = await resolveEndpoints(none, ["sts"]).then(
      () => undefined,
      (e: unknown) => e as PipeError,
    );
    expect(isPipeError(error)).toBe(true);
    expect(error?.kind).toBe("input");
    expect(error?.message).toMatch(/^The shared AWS config file's endpoint_url for sts/);
    expect(error?.message).not.toContain("s3cret");
    expect(error?.fix).toContain("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  });

  it("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the file's own setting) leaves the file's endpoints out", async () => {
    // The setting is read once per process (a run is one process): a fresh module for each case.
    const fresh = async () => {
      vi.resetModules();
      return (await import("../../src/aws/endpoints.ts")).resolveEndpoints;
    };
    useConfig("[default]\nendpoint_url = http://sts.example.com\n", {
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "TRUE",
    });
    expect(await (await fresh())(none, ["sts"])).toEqual(none);
    useConfig("[default]\nendpoint_url = http://sts.example.com\nignore_configured_endpoint_urls = true\n");
    expect(await (await fresh())(none, ["sts"])).toEqual(none);
  });

  it("no config file, or no endpoint in it: the SDK's rules decide", async () => {
    process.env.AWS_CONFIG_FILE = path.join(dir, "absent");
    expect(await resolveEndpoints(none, ["sts", "codeartifact", "ecr"])).toEqual(none);
  });
});
