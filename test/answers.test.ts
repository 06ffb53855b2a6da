import { describe, expect, it } from "vitest";
import { isArn, isEndpoint, isFutureDate, isTokenShape, unexpectedAnswer } from "../src/answers.ts";

describe("answer shapes", () => {
  it("endpoints: https anywhere, plain http only to loopback, nothing hidden in them", () => {
    for (const good of [
      "https://acme-111111111111.d.codeartifact.us-east-1.amazonaws.com/npm/store/",
      "https://111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn",
      "http://127.0.0.1:8080/ca/",
      "http://127.3.2.1/",
      "http://localhost:9000",
      "http://[::1]:9000/x/",
    ]) {
      expect(isEndpoint(good), good).toBe(true);
    }
    for (const bad of [
      "http://something-remote/",
      "http://127.0.0.1.evil.example/",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "https://host/path\nscript-shell=/tmp/x",
      "https://host/pa th/",
      "https://host/\u001b[31m",
      "https://user:pw@host/",
      "not a url",
      "",
      42,
      undefined,
    ]) {
      expect(isEndpoint(bad), String(bad)).toBe(false);
    }
  });

  it("tokens: printable ASCII, no blanks, no quotes", () => {
    expect(isTokenShape("eyJ2ZXIiOjEsImlzdSI6MTY.abc_-+/=")).toBe(true);
    for (const bad of ["a b", "a\nb", "a'b", 'a"b', "a`b", "ä", "", "a\tb", 12]) {
      expect(isTokenShape(bad), String(bad)).toBe(false);
    }
  });

  it("ARNs: ARN syntax with a known partition form, an optional region and account", () => {
    for (const good of [
      "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-app-42",
      "arn:aws-us-gov:iam::111111111111:role/path/deploy",
      "arn:aws-eusc:sts::111111111111:assumed-role/r/s",
      "arn:aws:codeartifact:eusc-de-east-1:111111111111:domain/acme",
    ]) {
      expect(isArn(good), good).toBe(true);
    }
    for (const bad of [
      "arn:aws:sts::111111111111:assumed-role/deploy\n✔ forged",
      "arn:aws:sts::1111:assumed-role/x/y",
      "arn:evil:sts::111111111111:assumed-role/x/y",
      "arn:aws:sts::111111111111:",
      "arn:aws:sts::111111111111:a b",
      "",
    ]) {
      expect(isArn(bad), bad).toBe(false);
    }
  });

  it("expirations: a valid date after now", () => {
    const now = Date.UTC(2030, 0, 1);
    expect(isFutureDate(new Date(now + 1000), now)).toBe(true);
    expect(isFutureDate(new Date(now - 1000), now)).toBe(false);
    expect(isFutureDate(new Date(Number.NaN), now)).toBe(false);
    expect(isFutureDate(new Date(8.64e15), now)).toBe(false);
    expect(isFutureDate("2031-01-01T00:00:00Z", now)).toBe(false);
  });

  it("an unexpected answer is exit 1 naming the service and field, not a bug report", () => {
    const error = unexpectedAnswer("CodeArtifact", "repositoryEndpoint (npm)");
    expect(error.kind).toBe("internal");
    expect(error.message).toBe("unexpected answer from CodeArtifact: repositoryEndpoint (npm)");
    expect(error.fix).toMatch(/between this runner and AWS/);
    expect(error.fix).not.toMatch(/bug/i);
  });
});
