/**
 * The world's IAM policy evaluation (test/world/policy.ts): trust conditions, wildcards, IfExists,
 * multi-valued keys, explicit Deny, and aws:SourceIp through a real assume.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { beforeAll, describe, expect, it } from "vitest";
import { useWorld } from "../support/worldClients.ts";
import { DEFAULT_ACCOUNT, DEFAULT_REPOSITORY_UUID, type World } from "./index.ts";
import { evaluate, parsePolicy, wildcardMatch } from "./policy.ts";

let world: World;
const { assume, refusal, lastRecord } = useWorld((s) => ({ world } = s));

describe("trust policy conditions", () => {
  const ipRole = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/from-office`;
  beforeAll(() => {
    const host = world.issuer.hostPath;
    world.addRole({
      arn: ipRole,
      trustPolicy: {
        Version: "2012-10-17",
        Statement: {
          Effect: "Allow",
          Principal: { Federated: world.providerArn() },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${host}:aud`]: world.issuer.audience },
            StringLike: { [`${host}:sub`]: `${DEFAULT_REPOSITORY_UUID}:*` },
            IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32", "127.0.0.0/8"] },
          },
        },
      },
    });
  });

  it("admits only listed source addresses (IPv4 and IPv6)", async () => {
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials"); // the socket's 127.0.0.1
    world.setSourceIp("203.0.113.7");
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials");
    world.setSourceIp("2001:db8:1::5");
    await expect(assume({ RoleArn: ipRole })).resolves.toHaveProperty("Credentials");
    world.setSourceIp("198.51.100.1");
    expect(await refusal(assume({ RoleArn: ipRole }))).toMatchObject({ name: "AccessDenied" });
    expect(lastRecord()?.detail).toMatch(/IpAddress aws:sourceip/);
  });

  const request = (context: Record<string, string | string[]>) => ({
    action: "sts:AssumeRoleWithWebIdentity",
    principal: { type: "Federated", ids: ["arn:aws:iam::1:oidc-provider/x"] },
    context,
  });
  const statement = (condition: object, effect = "Allow") => ({
    Effect: effect,
    Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: condition,
  });
  const allows = (condition: object, context: Record<string, string | string[]>) =>
    evaluate(parsePolicy({ Statement: [statement(condition)] }), request(context)).allowed;

  it("implements IAM wildcards and the negated operators", () => {
    expect(wildcardMatch("{r}:*", "{r}:{e}:{s}")).toBe(true);
    expect(wildcardMatch("a?c", "abc")).toBe(true);
    expect(wildcardMatch("a?c", "ac")).toBe(false);
    expect(wildcardMatch("a.c", "abc")).toBe(false);
    expect(allows({ StringNotEquals: { "x:sub": "bad" } }, { "x:sub": "good" })).toBe(true);
    expect(allows({ StringNotEquals: { "x:sub": "bad" } }, { "x:sub": "bad" })).toBe(false);
    expect(allows({ StringNotLike: { "x:sub": "{r}:{prod}:*" } }, { "x:sub": "{r}:{prod}:{s}" })).toBe(false);
    expect(allows({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }, { "aws:SourceIp": "10.1.2.3" })).toBe(
      false,
    );
    // Condition keys are case-insensitive, values are not.
    expect(allows({ StringEquals: { "X:SUB": "v" } }, { "x:sub": "v" })).toBe(true);
    expect(allows({ StringEquals: { "x:sub": "V" } }, { "x:sub": "v" })).toBe(false);
  });

  it("treats missing keys, IfExists and multi-valued keys as IAM does", () => {
    expect(allows({ StringEquals: { "x:aud": "a" } }, {})).toBe(false);
    expect(allows({ StringNotEquals: { "x:aud": "a" } }, {})).toBe(true);
    expect(allows({ StringEqualsIfExists: { "x:aud": "a" } }, {})).toBe(true);
    expect(allows({ "ForAnyValue:StringLike": { "x:aud": "ari:*" } }, { "x:aud": ["sts", "ari:x"] })).toBe(
      true,
    );
    expect(allows({ "ForAllValues:StringLike": { "x:aud": "ari:*" } }, { "x:aud": ["sts", "ari:x"] })).toBe(
      false,
    );
  });

  it("lets an explicit Deny win and rejects policies IAM would not store", () => {
    const statements = parsePolicy({
      Statement: [statement({}), statement({ StringLike: { "x:sub": "*:{prod}:*" } }, "Deny")],
    });
    expect(evaluate(statements, request({ "x:sub": "{r}:{s}" })).allowed).toBe(true);
    expect(evaluate(statements, request({ "x:sub": "{r}:{prod}:{s}" }))).toMatchObject({ allowed: false });
    expect(() => parsePolicy({ Statement: [statement({ StringEqualz: { k: "v" } })] })).toThrow(
      /StringEqualz/,
    );
    expect(() =>
      parsePolicy({ Statement: [statement({ IpAddress: { "aws:SourceIp": "10.0.0.0/33" } })] }),
    ).toThrow(/CIDR/);
    expect(() => world.addRole({ arn: "arn:aws:iam::1:role/x", trustPolicy: { Statement: [] } })).toThrow(
      /role ARN/,
    );
  });
});
