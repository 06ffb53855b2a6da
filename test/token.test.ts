import { describe, expect, it } from "vitest";
import { decodeClaims, readStepClaims, readStepToken } from "../src/token.ts";

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = (claims: Record<string, unknown>) =>
  `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
const now = Date.UTC(2026, 10, 25, 12, 0, 0);
const claims = {
  iss: "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
  aud: "ari:cloud:bitbucket::workspace/11111111-2222-4333-8444-555555555555",
  sub: "{aaaaaaaa-0000-4000-8000-000000000001}:{bbbbbbbb-0000-4000-8000-000000000002}",
  iat: now / 1000 - 10,
  exp: now / 1000 + 600,
  repositoryUuid: "{aaaaaaaa-0000-4000-8000-000000000001}",
  branchName: "main",
};

describe("token", () => {
  it("decodes Bitbucket's claims", () => {
    expect(decodeClaims(jwt(claims))).toEqual(claims);
  });

  it("asks for oidc: true when the token is missing", () => {
    expect(() => readStepToken({}, now)).toThrow(/BITBUCKET_STEP_OIDC_TOKEN is not set/);
    expect(() => readStepToken({ BITBUCKET_STEP_OIDC_TOKEN: " " }, now)).toThrow(
      expect.objectContaining({ kind: "input", fix: expect.stringMatching(/oidc: true/) }),
    );
  });

  it("refuses malformed tokens without echoing them", () => {
    for (const bad of [
      "abc",
      "a.b",
      "a.b.c.d",
      `x.${part("not an object")}.y`,
      `x.${part({ iss: "i" })}.y`,
      "a.%%%.c",
    ]) {
      expect(() => decodeClaims(bad)).toThrow(/^BITBUCKET_STEP_OIDC_TOKEN is not a valid OIDC token/);
      expect(() => decodeClaims(bad)).not.toThrow(bad);
    }
  });

  it("refuses an expired token locally", () => {
    expect(() =>
      readStepToken({ BITBUCKET_STEP_OIDC_TOKEN: jwt({ ...claims, exp: now / 1000 - 5 }) }, now),
    ).toThrow(/expired at .* \(5 s ago\)/);
    expect(readStepToken({ BITBUCKET_STEP_OIDC_TOKEN: jwt(claims) }, now).claims.sub).toBe(claims.sub);
  });

  it("reads the claims of an expired token for claims and template --from-token", () => {
    const expired = { ...claims, exp: now / 1000 - 5 };
    expect(readStepClaims({ BITBUCKET_STEP_OIDC_TOKEN: jwt(expired) })).toEqual(expired);
    expect(() => readStepClaims({})).toThrow(/BITBUCKET_STEP_OIDC_TOKEN is not set/);
  });

  it("refuses exp and iat that are not times between 1970 and 9999, in claims too", () => {
    for (const exp of [-1e20, 1e20, Number.NaN, "1900000000", null, 253402300800]) {
      const token = jwt({ ...claims, exp });
      expect(() => readStepToken({ BITBUCKET_STEP_OIDC_TOKEN: token }, now)).toThrow(
        expect.objectContaining({ kind: "input", message: expect.stringMatching(/`exp`/) }),
      );
      expect(() => readStepClaims({ BITBUCKET_STEP_OIDC_TOKEN: token })).toThrow(/`exp`/);
    }
    for (const iat of [-5, "now", 1e300]) {
      expect(() => readStepClaims({ BITBUCKET_STEP_OIDC_TOKEN: jwt({ ...claims, iat }) })).toThrow(/`iat`/);
    }
  });
});
