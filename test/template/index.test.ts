import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runTemplate, TEMPLATE_USAGE } from "../../src/template/index.ts";
import { BASE, FIXTURE } from "../support/template.ts";

/**
 * The `template` command (src/template/index.ts): flags in, the text, its warnings and the notes
 * out; and its --help.
 */

describe("runTemplate", () => {
  it("returns the rendered text, the template's warnings and the flags' notes apart", () => {
    const result = runTemplate([...BASE, "--source-ip", "0.0.0.0/0", "--audience", "deploy-prod"], {});
    expect(parse(result.output).AWSTemplateFormatVersion).toBe("2010-09-09");
    expect(result.warnings.join("\n")).toContain("--source-ip 0.0.0.0/0 admits every address");
    expect(result.notes.join("\n")).toContain("--audience");
    expect(result.output).not.toContain("admits every address");
  });

  it("reads --ip-ranges from the disk unless told how to read it", () => {
    const fromDisk = runTemplate([...BASE, "--ip-ranges", FIXTURE], {});
    expect(fromDisk.output).toContain("198.51.100.64/27");
    const seen: string[] = [];
    const given = runTemplate([...BASE, "--ip-ranges", "ranges.json"], {}, (p) => {
      seen.push(p);
      return JSON.stringify({
        items: [{ cidr: "192.0.2.0/24", product: ["bitbucket"], direction: ["egress"] }],
      });
    });
    expect(seen).toEqual(["ranges.json"]);
    expect(given.output).toContain("192.0.2.0/24");
  });

  it("renders JSON when asked, the same template", () => {
    const json = runTemplate([...BASE, "--format", "json"], {});
    expect(JSON.parse(json.output)).toEqual(parse(runTemplate(BASE, {}).output));
  });
});

describe("template --help", () => {
  it("--help lists every flag of the contract", () => {
    for (const flag of [
      "--workspace ",
      "--workspace-uuid",
      "--repository-uuid",
      "--environment-uuid",
      "--audience",
      "--source-ip",
      "--ip-ranges",
      "--role-name",
      "--max-session-duration",
      "--existing-provider-arn",
      "--cdk-qualifier",
      "--cdk-access",
      "--read-only",
      "--codeartifact",
      "--ecr",
      "--from-token",
      "--format",
      "--help",
      "--version",
    ]) {
      expect(TEMPLATE_USAGE).toContain(flag);
    }
  });

  it("--help leads with the several-repositories case and sends users where Bitbucket shows the UUIDs", () => {
    const flagsStart = TEMPLATE_USAGE.indexOf("  --workspace NAME");
    const intro = TEMPLATE_USAGE.slice(0, flagsStart);
    expect(intro).toMatch(/--existing-provider-arn <ProviderArn output[\s\S]*--role-name/);
    expect(intro).toContain("repeat --repository-uuid");
    expect(intro).toContain("Repository settings → OpenID Connect");
    expect(TEMPLATE_USAGE).not.toContain("Workspace settings");
  });
});
