import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseIpRanges } from "../../src/template/ipRanges.ts";
import { caught } from "../support/caught.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/ip-ranges.sample.json", import.meta.url));

describe("parseIpRanges", () => {
  it("takes Bitbucket's egress CIDRs from the published file", () => {
    const json: unknown = JSON.parse(readFileSync(FIXTURE, "utf8"));
    expect(parseIpRanges(json)).toEqual(["192.0.2.0/28", "198.51.100.64/27", "2001:db8:100::/48"]);
  });

  it("matches product and direction in any case, as a string or a list, and deduplicates", () => {
    const json = {
      items: [
        { cidr: "192.0.2.0/28", product: "Bitbucket", direction: ["EGRESS"] },
        { cidr: "192.0.2.0/28", product: ["bitbucket"], direction: ["egress", "ingress"] },
        { cidr: "203.0.113.0/24", product: ["bitbucket"] },
        { cidr: "198.51.100.0/24", direction: ["egress"] },
      ],
    };
    expect(parseIpRanges(json)).toEqual(["192.0.2.0/28"]);
    expect(parseIpRanges({ items: [] })).toEqual([]);
  });

  it.each([
    ["an array", [], "JSON object"],
    ["null", null, "JSON object"],
    ["no items", { creationDate: "x" }, "`items`"],
    ["items not an array", { items: {} }, "`items`"],
    ["an item that is a string", { items: ["192.0.2.0/24"] }, "items[0]"],
    [
      "a product that is a number",
      { items: [{ cidr: "192.0.2.0/24", product: 1, direction: ["egress"] }] },
      "product",
    ],
    [
      "a direction list with a number",
      { items: [{ cidr: "192.0.2.0/24", product: ["bitbucket"], direction: [1] }] },
      "direction",
    ],
    [
      "a bitbucket egress item with a bad cidr",
      { items: [{ cidr: "192.0.2.0/99", product: ["bitbucket"], direction: ["egress"] }] },
      "cidr",
    ],
    [
      "a bitbucket egress item without a prefix",
      { items: [{ cidr: "192.0.2.1", product: ["bitbucket"], direction: ["egress"] }] },
      "cidr",
    ],
    [
      "a bitbucket egress item without cidr",
      { items: [{ product: ["bitbucket"], direction: ["egress"] }] },
      "cidr",
    ],
  ])("refuses %s with a clear input error", (_, json, mention) => {
    const error = caught(() => parseIpRanges(json));
    expect(error.kind).toBe("input");
    expect(error.message).toContain(mention);
    expect(error.fix).toContain("ip-ranges.atlassian.com");
  });
});
