import { describe, expect, it } from "vitest";
import { codeArtifactRefusal, NEEDED_ACTIONS } from "../../../src/features/codeartifact/api.ts";

/** CodeArtifact's refusals diagnosed (src/features/codeartifact/api.ts). */

describe("refusals", () => {
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
    for (const action of NEEDED_ACTIONS) expect(text).toContain(action);
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
