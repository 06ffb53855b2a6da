// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${AWS::...} placeholders are what these tests look for.
import { describe, expect, it } from "vitest";
import { runTemplate } from "../../src/template/index.ts";
import { caught } from "../support/caught.ts";
import {
  AUDIENCE,
  BASE,
  HOST_PATH,
  noFiles,
  PROVIDER_ARN,
  REPO,
  run,
  told,
  WS_UUID,
} from "../support/template.ts";

/**
 * The flags' values (src/template/options.ts): each bad value exit 2 naming its flag, every problem
 * at once and one message per bad flag, the fix pointing at it.
 */

describe("bad flags exit 2 naming the flag", () => {
  it.each([
    ["an unknown flag, with a suggestion", [...BASE, "--role", "x"], ["--role", "--role-name"]],
    ["a flag without its value", [...BASE, "--role-name"], ["--role-name"]],
    ["an empty value", [...BASE, "--role-name="], ["--role-name"]],
    ["a value flag given twice", [...BASE, "--workspace", "acme"], ["--workspace", "once"]],
    ["a positional argument", [...BASE, "extra"], ["extra"]],
    ["a misspelt flag", [...BASE, "--cdk-acess", "full"], ["--cdk-acess", "--cdk-access"]],
    [
      "a bad workspace UUID",
      ["--workspace", "acme", "--workspace-uuid", "nope", "--repository-uuid", REPO],
      ["--workspace-uuid", "nope"],
    ],
    ["a bad repository UUID", [...BASE, "--repository-uuid", "{abc}"], ["--repository-uuid", "{abc}"]],
    [
      "a bad environment UUID",
      [...BASE, "--environment-uuid", "production"],
      ["--environment-uuid", "production"],
    ],
    ["a bad workspace", ["--workspace", "a b", ...BASE.slice(2)], ["--workspace"]],
    ["a bad CIDR", [...BASE, "--source-ip", "10.0.0.0/33"], ["--source-ip", "10.0.0.0/33"]],
    ["a bad role name", [...BASE, "--role-name", "deploy role"], ["--role-name"]],
    ["a too long role name", [...BASE, "--role-name", "r".repeat(65)], ["--role-name"]],
    ["a session below 3600", [...BASE, "--max-session-duration", "3599"], ["--max-session-duration", "3600"]],
    [
      "a session above 43200",
      [...BASE, "--max-session-duration", "43201"],
      ["--max-session-duration", "43200"],
    ],
    ["a session that is not a number", [...BASE, "--max-session-duration", "1h"], ["--max-session-duration"]],
    [
      "a bad provider ARN",
      [...BASE, "--existing-provider-arn", "arn:aws:iam::1:role/x"],
      ["--existing-provider-arn"],
    ],
    [
      "a provider of another workspace",
      [...BASE, "--existing-provider-arn", PROVIDER_ARN.replace("/acme/", "/other/")],
      ["--existing-provider-arn", "other"],
    ],
    ["a bad CDK qualifier", [...BASE, "--cdk-qualifier", "Too-Long-Qualifier"], ["--cdk-qualifier"]],
    ["a bad CDK access", [...BASE, "--cdk-access", "admin"], ["--cdk-access", "bootstrap-roles"]],
    ["a bad read-only", [...BASE, "--read-only", "yes"], ["--read-only", "true or false"]],
    ["a bad codeartifact", [...BASE, "--codeartifact", "write"], ["--codeartifact", "publish"]],
    ["a bad format", [...BASE, "--format", "xml"], ["--format", "json"]],
    ["a value for --from-token", [...BASE, "--from-token=maybe"], ["--from-token"]],
    ["a missing --ip-ranges file", [...BASE, "--ip-ranges", "/nope.json"], ["--ip-ranges", "/nope.json"]],
  ])("%s", (_, args, mentions) => {
    const error = caught(() => runTemplate([...args], {}, noFiles));
    expect(error.kind).toBe("input");
    for (const m of mentions) expect(told(error)).toContain(m);
    expect(error.fix).toBeTruthy();
  });

  it("reports every problem at once, the missing required flags included", () => {
    const error = caught(() => runTemplate(["--format", "xml", "--bogus"], {}, noFiles));
    expect(error.message).toMatch(/^5 problems/);
    for (const flag of ["--workspace ", "--workspace-uuid", "--repository-uuid", "--format", "--bogus"]) {
      expect(error.details.join("\n")).toContain(flag);
    }
  });

  it("accepts the bounds of --max-session-duration", () => {
    for (const seconds of ["3600", "43200"]) {
      const { template } = run([...BASE, "--max-session-duration", seconds]);
      expect(template.Resources.DeploymentRole.Properties.MaxSessionDuration).toBe(Number(seconds));
    }
  });
});

describe("values refused or read kindly", () => {
  it("accepts a pasted issuer URL as --workspace", () => {
    const { template } = run(["--workspace", `https://${HOST_PATH}`, ...BASE.slice(2)]);
    expect(template.Resources.BitbucketOidcProvider.Properties.Url).toBe(`https://${HOST_PATH}`);
  });

  it("refuses another value, naming the choices", () => {
    const error = caught(() => runTemplate([...BASE, "--ecr", "write"], {}, noFiles));
    expect(error.message).toBe('--ecr must be none, pull or push, not "write".');
  });

  it.each([
    ["a space", "deploy prod"],
    ["a comma", "a,b"],
    ["256 characters", "a".repeat(256)],
  ])("refuses an audience with %s, naming the flag", (_, audience) => {
    const error = caught(() => runTemplate([...BASE, "--audience", audience], {}, noFiles));
    expect(error.message).toContain("--audience");
    expect(error.message).toContain("repeat --audience");
  });
});

describe("one message per bad flag", () => {
  const problemsOf = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const error = caught(() => runTemplate(args, env, noFiles));
    return error.details.length > 0 ? error.details : [error.message];
  };
  it.each([
    [
      "a malformed --workspace-uuid",
      ["--workspace", "acme", "--workspace-uuid", "nope", "--repository-uuid", REPO],
      "is not a UUID",
    ],
    [
      "a --workspace-uuid without its value",
      ["--workspace", "acme", "--repository-uuid", REPO, "--workspace-uuid"],
      "needs a value",
    ],
    [
      "a --role-name followed by another flag",
      [...BASE, "--role-name", "--format", "json"],
      "--role-name needs a value",
    ],
    ["an unknown flag with a value", [...BASE, "--role", "x"], "Unknown flag --role"],
    ["an unknown flag with its value inline", [...BASE, "--role=x"], "Unknown flag --role"],
    [
      "a malformed --repository-uuid",
      ["--workspace", "acme", "--workspace-uuid", WS_UUID, "--repository-uuid", "r"],
      "is not a UUID",
    ],
    [
      "a malformed --workspace",
      ["--workspace", "a b", "--workspace-uuid", WS_UUID, "--repository-uuid", REPO],
      "not a workspace slug",
    ],
  ])("%s", (_, args, mention) => {
    const problems = problemsOf(args);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(mention);
  });

  it("--from-token without a token: that one problem, not also every flag the token would have given", () => {
    const problems = problemsOf(["--from-token"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("oidc: true");
  });

  it("names the UUIDs' place in Bitbucket when they are missing", () => {
    const problems = problemsOf(["--workspace", "acme"]);
    expect(problems).toHaveLength(2);
    for (const problem of problems) expect(problem).toContain("Repository settings → OpenID Connect");
  });

  it("the ✖ fix for one problem points at it, for several at the list", () => {
    expect(caught(() => runTemplate([...BASE, "--ecr", "all"], {}, noFiles)).fix).toMatch(/^Fix that flag/);
    expect(caught(() => runTemplate(["--ecr", "all"], {}, noFiles)).fix).toMatch(
      /^Fix the flags listed above/,
    );
  });

  it("takes the workspace's audience, as Bitbucket shows it, for --workspace-uuid", () => {
    const { template } = run([
      "--workspace",
      "acme",
      "--workspace-uuid",
      AUDIENCE,
      "--repository-uuid",
      REPO,
    ]);
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual([AUDIENCE]);
  });
});
