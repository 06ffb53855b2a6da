import { describe, expect, it } from "vitest";
import {
  basicPair,
  boundedText,
  encodedForms,
  PIECE,
  REDACTED,
  SecretScrubber,
  withoutUserinfo,
} from "../src/redact.ts";

/**
 * Known secrets removed from text (src/redact.ts): whole or by any 16-character piece, in every form
 * a message may carry them; text bounded without leaving a stub of a secret; URLs without their
 * password. (The property over random cuts and the linear-time check: test/security/secrets.test.ts.)
 */

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

describe("encodedForms and basicPair", () => {
  it("the forms a secret takes: raw, inside JSON, inside a URL, as the log escapes it", () => {
    expect(encodedForms('a"b\n/c+d')).toEqual([
      'a"b\n/c+d',
      'a\\"b\\n/c+d',
      "a%22b%0A%2Fc%2Bd",
      'a"b\\n/c+d',
    ]);
    expect(encodedForms("plain")).toEqual(["plain"]);
  });

  it("the base64 of user:password, as Basic authentication and Docker's auth carry it", () => {
    expect(basicPair("AWS", "pass")).toBe(Buffer.from("AWS:pass").toString("base64"));
  });
});

describe("SecretScrubber", () => {
  it("removes a secret whole, and a run of its pieces as one mark", () => {
    const scrubber = new SecretScrubber();
    scrubber.add(SECRET);
    expect(scrubber.scrub(`key=${SECRET}; done`)).toBe(`key=${REDACTED}; done`);
    expect(scrubber.scrub(`cut: ${SECRET.slice(5, 5 + PIECE)}|`)).toBe(`cut: ${REDACTED}|`);
    expect(scrubber.scrub(`short: ${SECRET.slice(5, 5 + PIECE - 1)}`)).toBe(`short: ${SECRET.slice(5, 20)}`);
    expect(scrubber.scrub(`${SECRET} ${SECRET}`)).toBe(`${REDACTED} ${REDACTED}`);
  });

  it("finds every piece at every offset, also of secrets added after a text was scrubbed, and of a part of a secret", () => {
    const scrubber = new SecretScrubber();
    const token = `${"a1b2c3d4e5".repeat(3)}.${SECRET}.${"z9y8x7w6v5".repeat(3)}`;
    scrubber.add(token);
    const cuts = (secret: string) =>
      Array.from({ length: secret.length - PIECE + 1 }, (_, at) => secret.slice(at, at + PIECE));
    for (const piece of cuts(token)) expect(scrubber.scrub(`<${piece}>`)).toBe(`<${REDACTED}>`);
    // Its middle part: contained in the token, so nothing new to index, and still found.
    scrubber.add(SECRET);
    for (const piece of cuts(SECRET)) expect(scrubber.scrub(`<${piece}>`)).toBe(`<${REDACTED}>`);
    const later = "Q".repeat(3) + SECRET.split("").reverse().join("");
    expect(scrubber.scrub(`<${later}>`)).toBe(`<${later}>`);
    scrubber.add(later);
    for (const piece of cuts(later)) expect(scrubber.scrub(`<${piece}>`)).toBe(`<${REDACTED}>`);
    expect(scrubber.scrub(`<${encodeURIComponent(later).slice(3, 3 + PIECE)}>`)).toBe(`<${REDACTED}>`);
  });

  it("finds the JSON-escaped and percent-encoded forms too", () => {
    const scrubber = new SecretScrubber();
    scrubber.add(SECRET);
    expect(scrubber.scrub(JSON.stringify({ k: SECRET }))).toBe(`{"k":"${REDACTED}"}`);
    expect(scrubber.scrub(`?k=${encodeURIComponent(SECRET)}&x`)).toBe(`?k=${REDACTED}&x`);
  });

  it("secrets shorter than a piece are removed where they appear whole; under 8 characters, never", () => {
    const scrubber = new SecretScrubber();
    scrubber.add("s3cretpw");
    scrubber.add("s3cretpw-longer");
    scrubber.add("short");
    scrubber.add(undefined);
    expect(scrubber.scrub("a s3cretpw-longer b s3cretpw c short")).toBe(
      `a ${REDACTED} b ${REDACTED} c short`,
    );
  });

  it("addBasicPair: the password, the pair and its base64", () => {
    const scrubber = new SecretScrubber();
    scrubber.addBasicPair("proxyuser", "proxy-password");
    const pair = basicPair("proxyuser", "proxy-password");
    expect(scrubber.scrub(`Proxy-Authorization: Basic ${pair}`)).toBe(
      `Proxy-Authorization: Basic ${REDACTED}`,
    );
    expect(scrubber.scrub("pw proxy-password")).toBe(`pw ${REDACTED}`);
  });

  it("leaves text with no secret as it is", () => {
    const scrubber = new SecretScrubber();
    scrubber.add(SECRET);
    const text = "INFO: Assumed arn:aws:sts::111111111111:assumed-role/deploy/s";
    expect(scrubber.scrub(text)).toBe(text);
  });
});

describe("boundedText", () => {
  it("keeps short text, and cuts long text before a run of token characters, never inside one", () => {
    expect(boundedText("short", 10)).toBe("short");
    expect(boundedText(`error: ${SECRET} more`, 20)).toBe("error:…");
    expect(boundedText("words and more words here", 12)).toBe("words and…");
    expect(boundedText("x".repeat(50), 10)).toBe("…");
  });
});

describe("withoutUserinfo", () => {
  it("drops user:password from a URL, leaves others and undefined alone", () => {
    expect(withoutUserinfo("http://u:p@proxy.example:3128")).toBe("http://proxy.example:3128/");
    expect(withoutUserinfo("https://sts.example.com")).toBe("https://sts.example.com");
    expect(withoutUserinfo(undefined)).toBeUndefined();
  });

  it("drops it from text that is not a URL at all", () => {
    expect(withoutUserinfo("http://u:p@[bad")).toBe("http://[bad");
  });
});
