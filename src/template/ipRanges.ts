import { inputError } from "../errors.js";
import { parseCidr } from "../trust.js";

/** Atlassian's published IP ranges (https://ip-ranges.atlassian.com/), as `template --ip-ranges` reads them. */

const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;

const ipRangesError = (why: string) =>
  inputError(`The IP ranges file is not Atlassian's published format: ${why}.`, {
    fix: "Download it unchanged from https://ip-ranges.atlassian.com/ (a JSON object with an `items` array of `cidr`, `product`, `direction`).",
  });

const textList = (value: unknown): string[] | undefined => {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  return undefined;
};

/**
 * The CIDRs Bitbucket Pipelines steps leave from, out of Atlassian's published IP ranges
 * (https://ip-ranges.atlassian.com/): items whose `product` includes `bitbucket` and whose
 * `direction` includes `egress`, deduplicated, in the file's order.
 */
export function parseIpRanges(json: unknown): string[] {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw ipRangesError(`expected a JSON object, found ${describe(json)}`);
  }
  const items = (json as Record<string, unknown>).items;
  if (!Array.isArray(items)) throw ipRangesError("there is no `items` array");
  const cidrs: string[] = [];
  items.forEach((item: unknown, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw ipRangesError(`items[${index}] is ${describe(item)}, not an object`);
    }
    const entry = item as Record<string, unknown>;
    const products = entry.product === undefined ? [] : textList(entry.product);
    const directions = entry.direction === undefined ? [] : textList(entry.direction);
    if (!products) throw ipRangesError(`items[${index}].product is not a list of names`);
    if (!directions) throw ipRangesError(`items[${index}].direction is not a list of names`);
    const lower = (list: string[]) => list.map((v) => v.toLowerCase());
    if (!lower(products).includes("bitbucket") || !lower(directions).includes("egress")) return;
    const cidr = typeof entry.cidr === "string" ? parseCidr(entry.cidr) : undefined;
    if (!cidr || !entry.cidr || !String(entry.cidr).includes("/")) {
      throw ipRangesError(`items[${index}].cidr is not a CIDR (${JSON.stringify(entry.cidr)})`);
    }
    cidrs.push(cidr);
  });
  return [...new Set(cidrs)];
}
