import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runTemplate } from "../../src/template/index.ts";
import { conditionForClaims } from "../../src/trust.ts";
import { caught } from "../support/caught.ts";
import {
  AUDIENCE,
  BASE,
  ENV,
  FIXTURE,
  HOST_PATH,
  noFiles,
  REPO,
  REPO2,
  run,
  told,
  WS_UUID,
} from "../support/template.ts";

/**
 * Where the template's inputs come from besides the flags (src/template/sources.ts): the step's
 * token (--from-token) and Atlassian's published IP ranges (--ip-ranges FILE).
 */

describe("--from-token", () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = (claims: Record<string, unknown>) =>
    `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.c2lnbmF0dXJl`;
  const claims = {
    iss: `https://${HOST_PATH}`,
    aud: AUDIENCE,
    sub: `${REPO}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
    exp: Math.floor(Date.now() / 1000) + 600,
    workspaceUuid: `{${WS_UUID}}`,
    repositoryUuid: REPO,
  };
  it("takes the workspace, its UUID and the repository UUID from the step's token", () => {
    const fromToken = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(claims) });
    expect(fromToken.output).toBe(run(BASE).output);
  });

  it("adds the token's repository to the ones given", () => {
    const { template } = run(["--from-token", "--repository-uuid", REPO2], {
      BITBUCKET_STEP_OIDC_TOKEN: token(claims),
    });
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toEqual([`${REPO}:*`, `${REPO2}:*`]);
  });

  it("on a deployment step, admits only that environment, as `claims` suggests, and says so", () => {
    const deployment = {
      ...claims,
      sub: `${REPO}:${ENV}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
      deploymentEnvironmentUuid: ENV,
    };
    const { template, notes } = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(deployment) });
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toBe(`${REPO}:${ENV}:*`);
    expect(condition).toEqual(conditionForClaims(deployment));
    expect(notes.join("\n")).toContain(`deployment step (environment ${ENV})`);
    expect(run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(claims) }).notes).toEqual([]);
  });

  it("takes a step's custom audiences from the token", () => {
    const custom = { ...claims, aud: ["deploy-prod"] };
    const { template } = run(["--from-token"], { BITBUCKET_STEP_OIDC_TOKEN: token(custom) });
    expect(template.Resources.BitbucketOidcProvider.Properties.ClientIdList).toEqual(["deploy-prod"]);
  });

  it("says what to do without a token", () => {
    const error = caught(() => runTemplate(["--from-token"], {}, noFiles));
    expect(error.kind).toBe("input");
    expect(told(error)).toContain("--from-token");
    expect(told(error)).toContain("BITBUCKET_STEP_OIDC_TOKEN");
    expect(told(error)).toContain("oidc: true");
  });

  it("refuses a --workspace that contradicts the token", () => {
    const error = caught(() =>
      runTemplate(
        ["--from-token", "--workspace", "other"],
        { BITBUCKET_STEP_OIDC_TOKEN: token(claims) },
        noFiles,
      ),
    );
    expect(told(error)).toContain("--workspace");
    expect(told(error)).toContain("acme");
  });
});

describe("--ip-ranges", () => {
  it("--ip-ranges takes Bitbucket's egress CIDRs from the published file, and warns about large steps", () => {
    const read: string[] = [];
    const { template, warnings } = run([...BASE, "--ip-ranges", FIXTURE], {}, (p) => {
      read.push(p);
      return readFileSync(p, "utf8");
    });
    expect(read).toEqual([FIXTURE]);
    const condition =
      template.Resources.DeploymentRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    expect(condition.IpAddress).toEqual({
      "aws:SourceIp": ["192.0.2.0/28", "198.51.100.64/27", "2001:db8:100::/48"],
    });
    expect(warnings.join("\n")).toContain("atlassian-ip-ranges: true");
  });

  it.each([
    ["not JSON", "{", "not JSON"],
    ["the wrong shape", '{"prefixes": []}', "`items`"],
    [
      "no Bitbucket egress entry",
      '{"items": [{"cidr": "192.0.2.0/24", "product": ["jira"], "direction": ["egress"]}]}',
      "no entry",
    ],
  ])("refuses an --ip-ranges file that is %s", (_, text, mention) => {
    const error = caught(() => runTemplate([...BASE, "--ip-ranges", "ranges.json"], {}, () => text));
    expect(told(error)).toContain("--ip-ranges");
    expect(told(error)).toContain(mention);
  });
});
