/**
 * Where STS is, for a region: the pipe resolves it itself (src/sts.ts does not use the SDK's
 * endpoint rules). The same hosts the SDK's rules give for STS.
 */

/** DNS suffixes by partition, from the region's prefix; the commercial partition otherwise. */
const PARTITIONS: ReadonlyArray<{ prefix: string; suffix: string; dualStack?: string }> = [
  { prefix: "cn-", suffix: "amazonaws.com.cn", dualStack: "api.amazonwebservices.com.cn" },
  { prefix: "us-gov-", suffix: "amazonaws.com", dualStack: "api.aws" },
  { prefix: "us-isob-", suffix: "sc2s.sgov.gov" },
  { prefix: "us-isof-", suffix: "csp.hci.ic.gov" },
  { prefix: "us-iso-", suffix: "c2s.ic.gov" },
  { prefix: "eu-isoe-", suffix: "cloud.adc-e.uk" },
  { prefix: "eusc-", suffix: "amazonaws.eu" },
];
const COMMERCIAL = { suffix: "amazonaws.com", dualStack: "api.aws" };

export interface EndpointOptions {
  /** AWS_USE_FIPS_ENDPOINT */
  fips: boolean;
  /** AWS_USE_DUALSTACK_ENDPOINT */
  dualStack: boolean;
}

const partitionOf = (region: string) => PARTITIONS.find((p) => region.startsWith(p.prefix)) ?? COMMERCIAL;

/** The region's partition's DNS suffix: amazonaws.com, amazonaws.com.cn, … */
export const dnsSuffix = (region: string): string => partitionOf(region).suffix;

/** Whether the region's partition has dual-stack endpoints (the ISO partitions have none). */
export const hasDualStack = (region: string): boolean => partitionOf(region).dualStack !== undefined;

/**
 * STS's regional endpoint, as the SDK resolves it: `sts.<region>.<suffix>`, `sts-fips.` with
 * FIPS (GovCloud's regular endpoints are FIPS already), the partition's dual-stack suffix with
 * dual-stack. The regional endpoint, never the global one (sts.amazonaws.com), as AWS recommends.
 */
export function stsEndpoint(region: string, options: EndpointOptions): string {
  const partition = partitionOf(region);
  const suffix = options.dualStack ? (partition.dualStack ?? partition.suffix) : partition.suffix;
  const fips = options.fips && !region.startsWith("us-gov-");
  return `https://sts${fips ? "-fips" : ""}.${region}.${suffix}`;
}
