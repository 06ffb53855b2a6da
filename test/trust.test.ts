import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Claims } from "../src/token.js";
import {
  BITBUCKET_ISSUER_PREFIX,
  braced,
  conditionForClaims,
  issuerHostPath,
  issuerUrl,
  parseCidr,
  parseUuid,
  policyLength,
  type TrustCondition,
  trustCondition,
  trustPolicyDocument,
  unbraced,
  workspaceAudience,
  workspaceFromIssuer,
} from "../src/trust.js";
import { caught } from "./support/caught.ts";

const REPO = "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}";
const REPO2 = "{0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d}";
const ENV = "{e1e2e3e4-f5f6-4a7b-8c9d-aaaabbbbcccc}";
const ENV2 = "{f1f2f3f4-a5a6-4b7c-8d9e-ddddeeeeffff}";
const STEP = "{5555aaaa-6666-4bbb-8ccc-7777dddd8888}";
const WS_UUID = "{12345678-90ab-4cde-8f01-234567890abc}";
const ISSUER = issuerUrl("acme");
const HOST_PATH = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";

/** IAM's StringLike: `*` any run of characters, `?` one character, everything else literal. */
const stringLike = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("")}$`,
  ).test(value);

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Would IAM's condition (aud + sub only; no IP checked here) admit a token with this aud and sub? */
const admits = (condition: TrustCondition, hostPath: string, aud: string, sub: string): boolean =>
  asList(condition.StringEquals[`${hostPath}:aud`]).includes(aud) &&
  asList(condition.StringLike[`${hostPath}:sub`]).some((p) => stringLike(p, sub));

describe("issuer helpers", () => {
  it("builds the workspace issuer and its IAM host/path", () => {
    expect(issuerUrl("acme")).toBe(`${BITBUCKET_ISSUER_PREFIX}acme/pipelines-config/identity/oidc`);
    expect(issuerHostPath(ISSUER)).toBe(HOST_PATH);
    expect(issuerHostPath(`${ISSUER}/`)).toBe(HOST_PATH);
    expect(issuerHostPath(`${ISSUER}//`)).toBe(HOST_PATH);
    expect(issuerHostPath("http://127.0.0.1:9000/oidc/")).toBe("127.0.0.1:9000/oidc");
  });

  it("finds the workspace in a Bitbucket issuer and nothing in others", () => {
    expect(workspaceFromIssuer(ISSUER)).toBe("acme");
    expect(workspaceFromIssuer(`${ISSUER}/`)).toBe("acme");
    expect(workspaceFromIssuer("https://token.actions.githubusercontent.com")).toBeUndefined();
    expect(
      workspaceFromIssuer(`${BITBUCKET_ISSUER_PREFIX}a/b/pipelines-config/identity/oidc`),
    ).toBeUndefined();
    expect(workspaceFromIssuer(`${BITBUCKET_ISSUER_PREFIX}/pipelines-config/identity/oidc`)).toBeUndefined();
  });
});

describe("UUIDs", () => {
  it("accepts a UUID with or without braces, in any case, and gives it braced and lowercase", () => {
    const bare = "7D3B1E2A-4C5F-4A6B-8C7D-9E0F1A2B3C4D";
    expect(parseUuid(bare)).toBe(REPO);
    expect(parseUuid(`{${bare}}`)).toBe(REPO);
    expect(parseUuid(` ${REPO} `)).toBe(REPO);
    expect(braced(bare)).toBe(REPO);
    expect(unbraced(REPO)).toBe(REPO.slice(1, -1));
    expect(unbraced(REPO.slice(1, -1))).toBe(REPO.slice(1, -1));
  });

  it.each([
    ["one brace", "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d"],
    ["the other brace", "7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}"],
    ["too short", "7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4"],
    ["not hex", "7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4g"],
    ["no dashes", "7d3b1e2a4c5f4a6b8c7d9e0f1a2b3c4d"],
    ["empty", ""],
    ["a slug", "my-repo"],
  ])("rejects %s", (_, value) => {
    expect(parseUuid(value)).toBeUndefined();
    expect(caught(() => braced(value)).kind).toBe("input");
    expect(caught(() => unbraced(value)).kind).toBe("input");
  });

  it("writes the audience without braces", () => {
    expect(workspaceAudience(WS_UUID)).toBe(
      "ari:cloud:bitbucket::workspace/12345678-90ab-4cde-8f01-234567890abc",
    );
    expect(workspaceAudience(WS_UUID.slice(1, -1).toUpperCase())).toBe(workspaceAudience(WS_UUID));
  });
});

describe("parseCidr", () => {
  it.each([
    ["192.0.2.0/24", "192.0.2.0/24"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:db8::1", "2001:db8::1/128"],
    [" 10.0.0.0/8 ", "10.0.0.0/8"],
  ])("accepts %s", (value, expected) => {
    expect(parseCidr(value)).toBe(expected);
  });

  it.each([
    "192.0.2.0/33",
    "2001:db8::/129",
    "192.0.2.256/24",
    "192.0.2.0/",
    "192.0.2.0/-1",
    "192.0.2.0/24/8",
    "example.com/24",
    "",
  ])("rejects %s", (value) => {
    expect(parseCidr(value)).toBeUndefined();
  });
});

describe("trustCondition", () => {
  const audience = workspaceAudience(WS_UUID);

  it("admits one repository with single values as strings", () => {
    expect(
      trustCondition({ issuer: ISSUER, audience, repositoryUuids: [REPO.slice(1, -1).toUpperCase()] }),
    ).toEqual({
      StringEquals: { [`${HOST_PATH}:aud`]: audience },
      StringLike: { [`${HOST_PATH}:sub`]: `${REPO}:*` },
    });
  });

  it("admits every repository x environment pair, deduplicated, as an array", () => {
    const condition = trustCondition({
      issuer: ISSUER,
      audience,
      repositoryUuids: [REPO, REPO2, REPO.slice(1, -1)],
      environmentUuids: [ENV, ENV2],
    });
    expect(condition.StringLike[`${HOST_PATH}:sub`]).toEqual([
      `${REPO}:${ENV}:*`,
      `${REPO}:${ENV2}:*`,
      `${REPO2}:${ENV}:*`,
      `${REPO2}:${ENV2}:*`,
    ]);
    // A deployment step of REPO in ENV is admitted; a plain step of REPO is not.
    expect(admits(condition, HOST_PATH, audience, `${REPO}:${ENV}:${STEP}`)).toBe(true);
    expect(admits(condition, HOST_PATH, audience, `${REPO}:${STEP}`)).toBe(false);
    expect(condition.IpAddress).toBeUndefined();
  });

  it("adds aws:SourceIp when CIDRs are given", () => {
    const one = trustCondition({
      issuer: ISSUER,
      audience,
      repositoryUuids: [REPO],
      sourceCidrs: ["192.0.2.0/24"],
    });
    expect(one.IpAddress).toEqual({ "aws:SourceIp": "192.0.2.0/24" });
    const two = trustCondition({
      issuer: ISSUER,
      audience,
      repositoryUuids: [REPO],
      sourceCidrs: ["192.0.2.0/24", "2001:db8::/32", "192.0.2.0/24"],
    });
    expect(two.IpAddress).toEqual({ "aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"] });
  });

  it("refuses bad input with input errors", () => {
    expect(caught(() => trustCondition({ issuer: ISSUER, audience, repositoryUuids: [] })).kind).toBe(
      "input",
    );
    expect(
      caught(() => trustCondition({ issuer: ISSUER, audience, repositoryUuids: ["my-repo"] })).message,
    ).toContain("my-repo");
    const badCidr = caught(() =>
      trustCondition({ issuer: ISSUER, audience, repositoryUuids: [REPO], sourceCidrs: ["10.0.0.0/40"] }),
    );
    expect(badCidr.message).toContain("10.0.0.0/40");
  });

  it("keeps the braces and uses the issuer's host/path in its keys, whatever the input (property)", () => {
    const workspace = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
    const uuid = fc.uuid({ version: 4 });
    const spelled = (u: string) =>
      fc
        .constantFrom(u, `{${u}}`, u.toUpperCase(), `{${u.toUpperCase()}}`)
        .map((s) => ({ canonical: `{${u}}`, s }));
    const uuidInput = uuid.chain(spelled);
    const cidr = fc.ipV4().chain((ip) => fc.integer({ min: 0, max: 32 }).map((n) => `${ip}/${n}`));
    fc.assert(
      fc.property(
        workspace,
        fc.boolean(),
        uuid,
        fc.uniqueArray(uuidInput, { minLength: 1, maxLength: 4, selector: (x) => x.canonical }),
        fc.uniqueArray(uuidInput, { maxLength: 3, selector: (x) => x.canonical }),
        fc.array(cidr, { maxLength: 3 }),
        (ws, trailingSlash, wsUuid, repos, envs, cidrs) => {
          const issuer = `${issuerUrl(ws)}${trailingSlash ? "/" : ""}`;
          const aud = workspaceAudience(wsUuid);
          const condition = trustCondition({
            issuer,
            audience: aud,
            repositoryUuids: repos.map((r) => r.s),
            environmentUuids: envs.map((e) => e.s),
            sourceCidrs: cidrs,
          });
          const hostPath = `api.bitbucket.org/2.0/workspaces/${ws}/pipelines-config/identity/oidc`;
          expect(Object.keys(condition.StringEquals)).toEqual([`${hostPath}:aud`]);
          expect(Object.keys(condition.StringLike)).toEqual([`${hostPath}:sub`]);
          expect(aud).not.toMatch(/[{}]/);
          const patterns = asList(condition.StringLike[`${hostPath}:sub`]);
          expect(patterns).toHaveLength(repos.length * Math.max(envs.length, 1));
          const braces = /^\{[0-9a-f-]{36}\}:(\{[0-9a-f-]{36}\}:)?\*$/;
          for (const p of patterns) expect(p).toMatch(braces);
          // Every listed repository's step is admitted (in every listed environment); others are not.
          for (const r of repos) {
            const sub =
              envs.length === 0 ? `${r.canonical}:${STEP}` : `${r.canonical}:${envs[0]?.canonical}:${STEP}`;
            expect(admits(condition, hostPath, aud, sub)).toBe(true);
          }
          const stranger = "{00000000-0000-4000-8000-000000000000}";
          if (!repos.some((r) => r.canonical === stranger)) {
            expect(admits(condition, hostPath, aud, `${stranger}:${STEP}`)).toBe(false);
          }
          expect(condition.IpAddress === undefined).toBe(cidrs.length === 0);
        },
      ),
    );
  });
});

describe("conditionForClaims", () => {
  const base: Claims = {
    iss: ISSUER,
    aud: workspaceAudience(WS_UUID),
    sub: `${REPO}:${STEP}`,
    exp: 2_000_000_000,
    repositoryUuid: REPO,
    workspaceUuid: WS_UUID,
  };

  it("admits this repository's steps, equal to what the template would write", () => {
    const condition = conditionForClaims(base);
    expect(condition).toEqual(
      trustCondition({ issuer: ISSUER, audience: workspaceAudience(WS_UUID), repositoryUuids: [REPO] }),
    );
    expect(admits(condition, HOST_PATH, workspaceAudience(WS_UUID), base.sub)).toBe(true);
  });

  it("on a deployment step admits this repository's steps in this environment only", () => {
    const claims: Claims = { ...base, sub: `${REPO}:${ENV}:${STEP}`, deploymentEnvironmentUuid: ENV };
    const condition = conditionForClaims(claims);
    expect(condition.StringLike).toEqual({ [`${HOST_PATH}:sub`]: `${REPO}:${ENV}:*` });
    expect(admits(condition, HOST_PATH, workspaceAudience(WS_UUID), claims.sub)).toBe(true);
    expect(admits(condition, HOST_PATH, workspaceAudience(WS_UUID), `${REPO}:${ENV2}:${STEP}`)).toBe(false);
  });

  it("uses the first audience and falls back to the UUID claims for a sub of unknown shape", () => {
    const claims: Claims = {
      ...base,
      aud: ["custom-audience", "other"],
      sub: "something-else",
      deploymentEnvironmentUuid: ENV.slice(1, -1),
    };
    const condition = conditionForClaims(claims);
    expect(condition.StringEquals).toEqual({ [`${HOST_PATH}:aud`]: "custom-audience" });
    expect(condition.StringLike).toEqual({ [`${HOST_PATH}:sub`]: `${REPO}:${ENV}:*` });
  });

  it("never throws on odd claims", () => {
    const { repositoryUuid: _r, workspaceUuid: _w, ...bare } = base;
    const condition = conditionForClaims({ ...bare, iss: "not a url", sub: "a:b:c:d" });
    expect(condition.StringLike).toEqual({ "not a url:sub": "a:b:c:d" });
  });
});

describe("trustPolicyDocument", () => {
  it("is a web-identity trust policy with the condition and the principal given", () => {
    const condition = trustCondition({
      issuer: ISSUER,
      audience: workspaceAudience(WS_UUID),
      repositoryUuids: [REPO],
    });
    const arn = `arn:aws:iam::123456789012:oidc-provider/${HOST_PATH}`;
    const doc = trustPolicyDocument(arn, condition);
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: condition,
        },
      ],
    });
    const ref = trustPolicyDocument({ Ref: "BitbucketOidcProvider" }, condition);
    expect(ref.Statement[0].Principal.Federated).toEqual({ Ref: "BitbucketOidcProvider" });
  });

  it("measures a policy as IAM does, without white space", () => {
    expect(policyLength({ a: "b c", d: [1, 2] })).toBe('{"a":"bc","d":[1,2]}'.length);
    const doc = trustPolicyDocument(
      "arn",
      conditionForClaims({ iss: ISSUER, aud: "x", sub: `${REPO}:${STEP}`, exp: 1 }),
    );
    expect(policyLength(doc)).toBe(JSON.stringify(doc).length);
  });
});
