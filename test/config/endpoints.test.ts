import { describe, expect, it } from "vitest";
import { parseEndpoints, parseRegion } from "../../src/config/endpoints.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { base, parsedBy, problems } from "../support/config.ts";

/** Where AWS is (src/config/endpoints.ts): the region, endpoint URLs, FIPS and dual-stack. */

describe("through parseConfig", () => {
  it("refuses plain http endpoints except on loopback", () => {
    expect(problems({ ...base, AWS_ENDPOINT_URL: "http://sts.example.com" })[0]).toMatch(
      /^AWS_ENDPOINT_URL uses plain http/,
    );
    expect(problems({ ...base, AWS_ENDPOINT_URL_STS: "http://10.0.0.1:8080" })[0]).toMatch(
      /^AWS_ENDPOINT_URL_STS/,
    );
    const config = parseConfig(
      { ...base, AWS_ENDPOINT_URL: "http://127.0.0.1:4566", AWS_ENDPOINT_URL_STS: "http://[::1]:1" },
      "/build",
    );
    expect(config.endpoints).toEqual({
      sts: "http://[::1]:1",
      codeartifact: "http://127.0.0.1:4566",
      ecr: "http://127.0.0.1:4566",
    });
  });
});

describe("parseRegion", () => {
  it("takes any region name of the partitions' form, from AWS_REGION first, else AWS_DEFAULT_REGION", () => {
    for (const region of ["us-east-1", "us-gov-west-1", "eusc-de-east-1", "cn-north-1", "us-isob-east-1"]) {
      expect(parsedBy(parseRegion, { AWS_REGION: region })).toEqual({ value: region, problems: [] });
    }
    expect(parsedBy(parseRegion, { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-1" }).value).toBe(
      "eu-west-1",
    );
    expect(parsedBy(parseRegion, { AWS_DEFAULT_REGION: "us-east-1" }).value).toBe("us-east-1");
  });

  it("names the variable the bad value came from", () => {
    expect(parsedBy(parseRegion, { AWS_DEFAULT_REGION: "US-EAST-1" }).problems).toEqual([
      'AWS_DEFAULT_REGION must be an AWS region such as us-east-1, got "US-EAST-1".',
    ]);
    expect(parsedBy(parseRegion, {}).problems[0]).toMatch(
      /^AWS_REGION is required \(or AWS_DEFAULT_REGION\)/,
    );
  });
});

describe("parseEndpoints", () => {
  it("a service's own endpoint wins over the general one", () => {
    expect(
      parsedBy(parseEndpoints, {
        AWS_ENDPOINT_URL: "https://general.example.com",
        AWS_ENDPOINT_URL_ECR: "https://ecr.example.com",
      }).value.endpoints,
    ).toEqual({
      sts: "https://general.example.com",
      codeartifact: "https://general.example.com",
      ecr: "https://ecr.example.com",
    });
  });

  it("never shows an endpoint's password in a problem", () => {
    const { problems: found } = parsedBy(parseEndpoints, {
      AWS_ENDPOINT_URL_STS: "http://user:s3cret@example.com",
    });
    expect(found).toHaveLength(1);
    expect(found[0]).not.toContain("s3cret");
  });

  it("refuses FIPS or dual-stack with a custom endpoint, naming both variables", () => {
    const { value, problems: found } = parsedBy(parseEndpoints, {
      AWS_USE_FIPS_ENDPOINT: "true",
      AWS_USE_DUALSTACK_ENDPOINT: "true",
      AWS_ENDPOINT_URL_STS: "https://sts.example.com",
    });
    expect(value.endpointOptions).toEqual({ fips: true, dualStack: true });
    expect(found).toEqual([
      expect.stringMatching(/^AWS_USE_FIPS_ENDPOINT is true and AWS_ENDPOINT_URL_STS sets a custom endpoint/),
      expect.stringMatching(/^AWS_USE_DUALSTACK_ENDPOINT is true and AWS_ENDPOINT_URL_STS/),
    ]);
    expect(parseConfig({ ...base, AWS_USE_FIPS_ENDPOINT: "TRUE" }, "/build").endpointOptions).toEqual({
      fips: true,
      dualStack: false,
    });
    expect(problems({ ...base, AWS_USE_FIPS_ENDPOINT: "on" })[0]).toMatch(
      /^AWS_USE_FIPS_ENDPOINT must be true or false/,
    );
  });
});
