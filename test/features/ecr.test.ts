import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeAuthorizationToken, dockerConfigJson, registryHosts } from "../../src/features/ecr.ts";

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("registryHosts", () => {
  it("is the proxyEndpoint's host alone by default", () => {
    expect(registryHosts("https://111111111111.dkr.ecr.ap-southeast-2.amazonaws.com", [])).toEqual({
      hosts: ["111111111111.dkr.ecr.ap-southeast-2.amazonaws.com"],
      underived: [],
    });
  });

  it("adds each other account's registry: the same host with the account replaced", () => {
    expect(
      registryHosts("https://111111111111.dkr.ecr.eu-west-1.amazonaws.com", [
        "222222222222",
        "111111111111",
        "333333333333",
        "222222222222",
      ]).hosts,
    ).toEqual([
      "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
      "222222222222.dkr.ecr.eu-west-1.amazonaws.com",
      "333333333333.dkr.ecr.eu-west-1.amazonaws.com",
    ]);
  });

  it("keeps the partition's DNS suffix as ECR gave it: China, GovCloud, FIPS, dual-stack", () => {
    for (const [endpoint, other] of [
      [
        "https://111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "222222222222.dkr.ecr.cn-north-1.amazonaws.com.cn",
      ],
      [
        "https://111111111111.dkr.ecr.us-gov-west-1.amazonaws.com",
        "222222222222.dkr.ecr.us-gov-west-1.amazonaws.com",
      ],
      [
        "https://111111111111.dkr.ecr-fips.us-east-1.amazonaws.com",
        "222222222222.dkr.ecr-fips.us-east-1.amazonaws.com",
      ],
      ["https://111111111111.dkr-ecr.eu-west-1.on.aws", "222222222222.dkr-ecr.eu-west-1.on.aws"],
    ] as const) {
      const { hosts } = registryHosts(endpoint, ["222222222222"]);
      expect(hosts).toEqual([new URL(endpoint).host, other]);
    }
  });

  it("takes a bare host or one with a port, and reports ids it cannot place on a host without an account", () => {
    expect(registryHosts("111111111111.dkr.ecr.us-east-1.amazonaws.com", []).hosts).toEqual([
      "111111111111.dkr.ecr.us-east-1.amazonaws.com",
    ]);
    expect(registryHosts("http://127.0.0.1:5000", ["222222222222"])).toEqual({
      hosts: ["127.0.0.1:5000"],
      underived: ["222222222222"],
    });
  });

  it("only ever changes the leading account id", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{12}$/),
        fc.stringMatching(/^\d{12}$/),
        fc.stringMatching(/^[a-z]{2}(-[a-z]+)+-\d$/),
        fc.constantFrom("amazonaws.com", "amazonaws.com.cn", "on.aws"),
        (own, other, region, suffix) => {
          const host = `${own}.dkr.ecr.${region}.${suffix}`;
          const { hosts } = registryHosts(`https://${host}`, [other]);
          expect(hosts[0]).toBe(host);
          if (other !== own) expect(hosts[1]).toBe(`${other}.dkr.ecr.${region}.${suffix}`);
          else expect(hosts).toHaveLength(1);
        },
      ),
    );
  });
});

describe("dockerConfigJson", () => {
  it("is the Docker CLI's config.json: one auths entry per bare host, auth = base64(user:password)", () => {
    const json = dockerConfigJson(["1.dkr.example", "2.dkr.example"], "AWS", "pa:ss=word");
    expect(JSON.parse(json)).toEqual({
      auths: {
        "1.dkr.example": { auth: base64("AWS:pa:ss=word") },
        "2.dkr.example": { auth: base64("AWS:pa:ss=word") },
      },
    });
    expect(json.endsWith("\n")).toBe(true);
    expect(json).not.toContain("credsStore");
  });
});

describe("decodeAuthorizationToken", () => {
  it("splits base64(user:password) at the first colon", () => {
    expect(decodeAuthorizationToken(base64("AWS:eyJ:x=="))).toEqual({ user: "AWS", password: "eyJ:x==" });
  });

  it("round-trips with dockerConfigJson's auth", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21\x23-\x26\x28-\x5f\x61-\x7e]{1,80}$/), (password) => {
        const token = base64(`AWS:${password}`);
        const { user, password: decoded } = decodeAuthorizationToken(token);
        const auth = (
          JSON.parse(dockerConfigJson(["h"], user, decoded)) as { auths: { h: { auth: string } } }
        ).auths.h.auth;
        expect(auth).toBe(token);
      }),
    );
  });

  it("refuses what is not user:password", () => {
    for (const token of [base64("no-colon"), base64(":password"), base64("AWS:")]) {
      expect(() => decodeAuthorizationToken(token)).toThrow(
        /^unexpected answer from ECR: authorizationToken$/,
      );
    }
  });

  it("refuses a password that is not printable ASCII without blanks or quotes", () => {
    for (const password of ["pass word", "pass\nword", "pa'ss", 'pa"ss', "pässword"]) {
      expect(() => decodeAuthorizationToken(base64(`AWS:${password}`))).toThrow(
        /^unexpected answer from ECR: authorizationToken$/,
      );
    }
  });
});
