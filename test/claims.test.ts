import { describe, expect, it } from "vitest";
import { CLAIMS_USAGE, runClaims } from "../src/claims.ts";
import { PipeError } from "../src/errors.ts";
import { conditionForClaims } from "../src/trust.ts";
import { caught } from "./support/caught.ts";

/**
 * The `claims` command (src/claims.ts): the token's claims and the Condition that admits the step,
 * as text or JSON; its arguments read with node:util's parseArgs. Calls nothing.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const REPO = "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}";
const ENV = "{e1e2e3e4-f5f6-4a7b-8c9d-aaaabbbbcccc}";
const claims = {
  iss: "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
  aud: "ari:cloud:bitbucket::workspace/12345678-90ab-4cde-8f01-234567890abc",
  sub: `${REPO}:${ENV}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 600,
  repositoryUuid: REPO,
  deploymentEnvironmentUuid: ENV,
};
const env = { BITBUCKET_STEP_OIDC_TOKEN: `${b64({ alg: "RS256" })}.${b64(claims)}.c2lnbmF0dXJl` };

describe("runClaims", () => {
  it("text: the claims, the Condition, and a whole trust policy with a placeholder account", () => {
    const out = runClaims(env);
    expect(out).toContain("The step's OIDC token (claims, not secret):");
    expect(out).toContain(`  deploymentEnvironmentUuid: ${ENV}`);
    expect(out).toContain(`"${claims.iss.slice(8)}:sub": "${REPO}:${ENV}:*"`);
    expect(out).toContain(
      `"Federated": "arn:aws:iam::<account id>:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"`,
    );
    expect(out.endsWith("\n")).toBe(true);
    expect(out).not.toContain("c2lnbmF0dXJl");
  });

  it("--format json: the claims and the Condition as one JSON document", () => {
    for (const args of [["--format", "json"], ["--format=json"]]) {
      const parsed = JSON.parse(runClaims(env, args));
      expect(parsed.claims).toMatchObject({ sub: claims.sub, repositoryUuid: REPO });
      expect(parsed.condition).toEqual(conditionForClaims(parsed.claims));
    }
    expect(runClaims(env, ["--format", "text"])).toBe(runClaims(env));
  });

  it.each([
    [["--bogus"], "claims: unknown flag --bogus."],
    [["-x"], "claims: unknown flag -x."],
    [["extra"], 'claims: unexpected argument "extra".'],
    [["--format", "yaml"], 'claims: --format must be text or json, not "yaml".'],
    [["--format"], "claims: --format needs a value."],
  ])("%j is exit 2, saying how to call it", (args, message) => {
    const error = caught(() => runClaims(env, args));
    expect(error.kind).toBe("input");
    expect(error.message).toBe(message);
    expect(error.fix).toMatch(/^Run `claims` or `claims --format json`/);
  });

  it("without a token: exit 2 saying to add oidc: true", () => {
    const error = caught(() => runClaims({}));
    expect(error).toBeInstanceOf(PipeError);
    expect(error.kind).toBe("input");
    expect([error.message, error.fix].join(" ")).toContain("oidc: true");
  });

  it("its usage names the formats", () => {
    expect(CLAIMS_USAGE).toContain("--format text|json");
  });
});
