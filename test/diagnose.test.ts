import { describe, expect, it } from "vitest";
import {
  CODEARTIFACT_ACTIONS,
  callRefusal,
  chainRefusal,
  claimLines,
  codeArtifactRefusal,
  conditionLines,
  ecrRefusal,
  jsonLines,
  webIdentityRefusal,
} from "../src/diagnose.ts";
import type { Claims } from "../src/token.ts";
import { conditionForClaims } from "../src/trust.ts";

/**
 * What to fix, from a refusal and the token's claims (src/diagnose.ts): the full trust diagnosis
 * only for refusals about trust, a short fix for the others, the chain's statement for a refused
 * chain. The refusals are shaped as the SDK shapes them.
 */

const ISS = "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
const REPO = "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}";
const claims: Claims = {
  iss: ISS,
  aud: "ari:cloud:bitbucket::workspace/12345678-90ab-4cde-8f01-234567890abc",
  sub: `${REPO}:{5555aaaa-6666-4bbb-8ccc-7777dddd8888}`,
  iat: 1_700_000_000,
  exp: 1_700_003_600,
  workspaceUuid: "{12345678-90ab-4cde-8f01-234567890abc}",
  repositoryUuid: REPO,
  branchName: "main",
};
const ROLE = "arn:aws:iam::111111111111:role/deploy";

const refusal = (code: string, message: string, status = 403) =>
  Object.assign(new Error(message), {
    name: `${code}Exception`,
    Code: code,
    $metadata: { httpStatusCode: status },
  });

const text = (e: { message: string; details: readonly string[]; fix: string | undefined }) =>
  [e.message, ...e.details, e.fix ?? ""].join("\n");

describe("claim and policy lines", () => {
  it("lists the non-secret claims, expiry as ISO dates, untrusted text escaped", () => {
    expect(claimLines({ ...claims, branchName: "evil\n✔ forged" })).toEqual([
      `  iss: ${ISS}`,
      `  aud: ${claims.aud}`,
      `  sub: ${claims.sub}`,
      "  workspaceUuid: {12345678-90ab-4cde-8f01-234567890abc}",
      `  repositoryUuid: ${REPO}`,
      "  branchName: evil\\n✔ forged",
      "  issued: 2023-11-14T22:13:20.000Z",
      "  expires: 2023-11-14T23:13:20.000Z",
    ]);
    const { iat: _, ...noIat } = claims;
    expect(claimLines(noIat)).toContain("  issued: unknown");
    expect(claimLines({ ...claims, aud: ["a", "b"] })[1]).toBe("  aud: a, b");
  });

  it("indents a policy fragment as JSON lines; the condition is the one that admits these claims", () => {
    expect(jsonLines({ A: 1 })).toEqual(["  {", '    "A": 1', "  }"]);
    expect(conditionLines(claims).join("\n")).toBe(
      jsonLines({ Condition: conditionForClaims(claims) }).join("\n"),
    );
  });
});

describe("webIdentityRefusal", () => {
  it("AccessDenied: claims, the admitting condition, the likely causes, a fix naming the role", () => {
    const error = webIdentityRefusal(refusal("AccessDenied", "Not authorized"), claims, ROLE);
    expect(error.kind).toBe("refused");
    expect(error.message).toBe(
      `AWS refused sts:AssumeRoleWithWebIdentity for the role ${ROLE}: AccessDenied (HTTP 403): Not authorized`,
    );
    expect(error.details).toEqual(
      expect.arrayContaining([
        "The step's OIDC token (claims, not secret):",
        "A trust policy that admits this step has:",
        "Likely causes:",
      ]),
    );
    expect(text(error)).toContain(`${REPO}:*`);
    expect(text(error)).toContain("aws:SourceIp");
    expect(error.fix).toMatch(new RegExp(`^Make the trust policy of the role ${ROLE} admit this step`));
  });

  it("InvalidIdentityToken: a missing provider is told apart from other token problems", () => {
    const noProvider = webIdentityRefusal(
      refusal("InvalidIdentityToken", "No OpenIDConnect provider found in your account", 400),
      claims,
      ROLE,
      "profile dev's role",
    );
    expect(noProvider.message).toContain("for profile dev's role");
    expect(text(noProvider)).toContain(`no IAM OIDC identity provider for ${ISS} in the role's account`);
    expect(noProvider.fix).toMatch(/^Create the IAM OIDC identity provider/);
    const other = webIdentityRefusal(
      refusal("InvalidIdentityToken", "Incorrect token audience", 400),
      claims,
      ROLE,
    );
    expect(text(other)).toContain("is missing or its URL differs");
  });

  it("IDPRejectedClaim: the audiences and the claims IAM can match", () => {
    const error = webIdentityRefusal(refusal("IDPRejectedClaim", "rejected", 400), claims, ROLE);
    expect(text(error)).toContain("only aud and sub can be matched");
    expect(error.fix).toMatch(/^Check the identity provider's audiences/);
  });

  it.each([
    [
      "ExpiredTokenException",
      "Token expired",
      /run the pipe at the start of the step, and check the runner's clock/,
    ],
    ["RegionDisabledException", "STS is not activated", /activate it in IAM > Account settings/],
    [
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration",
      /raise the role's MaxSessionDuration/,
    ],
    [
      "ValidationError",
      "1 validation error: roleSessionName",
      /^Check AWS_ROLE_SESSION_NAME, AWS_ROLE_DURATION_SECONDS/,
    ],
    ["MalformedPolicyDocument", "bad", /^AWS_SESSION_POLICY is valid JSON but not a valid IAM policy/],
    ["PackedPolicyTooLarge", "too large", /shorten the policy or use fewer ARNs/],
  ])("%s (%s): a fix only, no claims and no trust advice", (code, message, fix) => {
    const error = webIdentityRefusal(refusal(code, message, 400), claims, ROLE);
    expect(error.kind).toBe("refused");
    expect(error.details).toEqual([]);
    expect(error.fix).toMatch(fix);
    expect(text(error)).not.toContain("Condition");
  });

  it("an unknown code still gets the claims and the condition, with a general fix", () => {
    const error = webIdentityRefusal(refusal("SomethingNew", "?", 400), claims, ROLE);
    expect(error.details).toContain("A trust policy that admits this step has:");
    expect(error.details).not.toContain("Likely causes:");
    expect(error.fix).toBe(
      `Check the role ${ROLE} and its trust policy against the claims and the Condition above.`,
    );
  });
});

describe("callRefusal", () => {
  it("names the call, what it was about, AWS's fault; details and fix as given", () => {
    const cause = refusal("AccessDenied", "explicit deny");
    const error = callRefusal("sts:GetCallerIdentity", cause, "with the credentials of X", "Do Y.", ["d"]);
    expect(error).toMatchObject({
      kind: "refused",
      message:
        "AWS refused sts:GetCallerIdentity with the credentials of X: AccessDenied (HTTP 403): explicit deny",
      details: ["d"],
      fix: "Do Y.",
    });
    expect(error.cause).toBe(cause);
  });
});

describe("chainRefusal", () => {
  const chain = {
    chainRoleArn: "arn:aws:iam::222222222222:role/workload",
    externalId: false,
    firstRoleArn: ROLE,
    firstSessionArn: "arn:aws:sts::111111111111:assumed-role/deploy/s",
  };

  it("the statement the chained role's trust policy needs, and the likely causes", () => {
    const error = chainRefusal(refusal("AccessDenied", "not authorized"), chain);
    expect(error.message).toBe(
      `AWS refused sts:AssumeRole into AWS_CHAIN_ROLE_ARN ${chain.chainRoleArn} with the credentials of ${chain.firstSessionArn}: AccessDenied (HTTP 403): not authorized`,
    );
    expect(error.details.join("\n")).toContain(`"AWS": "${ROLE}"`);
    expect(error.details.join("\n")).not.toContain('sts:ExternalId":');
    expect(error.details).toContain(
      "  - its trust policy requires sts:ExternalId: set AWS_CHAIN_EXTERNAL_ID to the agreed value",
    );
    expect(error.fix).toBe(
      `Let ${chain.chainRoleArn} trust ${ROLE} for sts:AssumeRole (the statement above), and allow ${ROLE} to call sts:AssumeRole on it.`,
    );
  });

  it("with an external id: the statement's condition, and the cause that it differs", () => {
    const error = chainRefusal(refusal("AccessDenied", "no"), { ...chain, externalId: true });
    expect(error.details.join("\n")).toContain('"sts:ExternalId": "<the value of AWS_CHAIN_EXTERNAL_ID>"');
    expect(error.details).toContain(
      "  - its trust policy's sts:ExternalId differs from AWS_CHAIN_EXTERNAL_ID",
    );
  });

  it("a session policy AWS refused: that it applies to the chained role, nothing about trust", () => {
    const error = chainRefusal(refusal("MalformedPolicyDocument", "bad policy", 400), chain);
    expect(error.details).toEqual([]);
    expect(error.fix).toBe(
      "Fix AWS_SESSION_POLICY or use fewer AWS_SESSION_POLICY_ARNS: session policies apply to the chained role.",
    );
  });
});

describe("codeArtifactRefusal", () => {
  const target = { domain: "acme", repository: "npm-store", owner: "222222222222", region: "cn-north-1" };
  const denied = Object.assign(
    new Error("User: x is not authorized to perform: codeartifact:GetAuthorizationToken"),
    {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 403 },
    },
  );

  it("names the domain, repository, owner and every action needed, with the partition's ARNs", () => {
    const error = codeArtifactRefusal("codeartifact:GetAuthorizationToken", denied, target, "111111111111");
    expect(error.kind).toBe("refused");
    expect(error.message).toBe(
      "AWS refused codeartifact:GetAuthorizationToken for the domain acme (owner 222222222222, cn-north-1), repository npm-store: AccessDeniedException (HTTP 403): User: x is not authorized to perform: codeartifact:GetAuthorizationToken",
    );
    const text = [...error.details, error.fix].join("\n");
    for (const action of CODEARTIFACT_ACTIONS) expect(text).toContain(action);
    expect(text).toContain("arn:aws-cn:codeartifact:cn-north-1:222222222222:domain/acme");
    expect(text).toContain("arn:aws-cn:codeartifact:cn-north-1:222222222222:repository/acme/npm-store");
    expect(text).toContain("codeartifact.amazonaws.com");
    expect(text).toContain("belongs to account 222222222222, not the role's (111111111111)");
  });

  it("says to check the names for a domain or repository that is not there", () => {
    const missing = Object.assign(new Error("Repository not found."), {
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
    const error = codeArtifactRefusal(
      "codeartifact:GetRepositoryEndpoint (npm)",
      missing,
      target,
      "222222222222",
    );
    expect(error.fix).toMatch(/^Check CODEARTIFACT_DOMAIN \(acme\), CODEARTIFACT_REPOSITORY \(npm-store\)/);
    expect(error.details.join("\n")).not.toContain("belongs to account");
  });
});

describe("ecrRefusal", () => {
  it("the login's permission on *, the repositories' in the partition's ARNs, other accounts' policies", () => {
    const error = ecrRefusal("ecr:GetAuthorizationToken", refusal("AccessDeniedException", "denied"), {
      region: "us-gov-west-1",
      accountId: "111111111111",
    });
    expect(error.message).toBe(
      "AWS refused ecr:GetAuthorizationToken with the default credentials (account 111111111111, us-gov-west-1): AccessDeniedException (HTTP 403): denied",
    );
    expect(error.details.join("\n")).toContain(
      "arn:aws-us-gov:ecr:us-gov-west-1:111111111111:repository/<name>",
    );
    expect(error.details.join("\n")).toContain("ECR_REGISTRY_IDS");
    expect(error.fix).toMatch(/^Allow ecr:GetAuthorizationToken on "Resource": "\*"/);
  });

  it("an account not known yet (no verification) is a placeholder", () => {
    const error = ecrRefusal("ecr:GetAuthorizationToken", refusal("AccessDeniedException", "denied"), {
      region: "eu-west-1",
      accountId: "",
    });
    expect(error.message).toContain("(account <account>, eu-west-1)");
  });
});
