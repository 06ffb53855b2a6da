import { endpointUrlProblem } from "../endpointUrl.js";
import { withoutUserinfo } from "../redact.js";
import { type Problems, parseBoolean, read, shown } from "./read.js";
import { VARIABLES } from "./variables.js";

/** Where AWS is: the region, and the SDK's endpoint settings the pipe honours. */

/** AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT, passed to every SDK client. */
export interface EndpointOptions {
  fips: boolean;
  dualStack: boolean;
}

export interface Endpoints {
  sts: string | undefined;
  codeartifact: string | undefined;
  ecr: string | undefined;
}

/** Region names as the SDK's partitions form them (us-east-1, us-gov-west-1, eusc-de-east-1, …): the SDK resolves the endpoint. */
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)*-\d{1,3}$/;

/** AWS_REGION, or AWS_DEFAULT_REGION; undefined when missing or bad (a problem says so). */
export function parseRegion(env: NodeJS.ProcessEnv, problems: Problems): string | undefined {
  const regionName = read(env, VARIABLES.region) !== undefined ? VARIABLES.region : VARIABLES.defaultRegion;
  const region = read(env, regionName);
  if (region === undefined) {
    problems.add(`${VARIABLES.region} is required (or ${VARIABLES.defaultRegion}), e.g. us-east-1.`);
  } else if (!REGION.test(region)) {
    problems.add(`${regionName} must be an AWS region such as us-east-1, got ${shown(region)}.`);
  }
  return region;
}

function parseEndpoint(env: NodeJS.ProcessEnv, name: string, problems: Problems): string | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const problem = endpointUrlProblem(value);
  if (problem !== undefined) {
    problems.add(`${name} ${problem}, got ${shown(withoutUserinfo(value) ?? "")}.`);
    return undefined;
  }
  return value;
}

/** AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, FIPS and dual-stack: each checked, and together. */
export function parseEndpoints(
  env: NodeJS.ProcessEnv,
  problems: Problems,
): { endpoints: Endpoints; endpointOptions: EndpointOptions } {
  const general = parseEndpoint(env, VARIABLES.endpoint, problems);
  const endpoints: Endpoints = {
    sts: parseEndpoint(env, VARIABLES.endpointSts, problems) ?? general,
    codeartifact: parseEndpoint(env, VARIABLES.endpointCodeartifact, problems) ?? general,
    ecr: parseEndpoint(env, VARIABLES.endpointEcr, problems) ?? general,
  };

  const endpointOptions: EndpointOptions = {
    fips: parseBoolean(env, "useFipsEndpoint", problems),
    dualStack: parseBoolean(env, "useDualstackEndpoint", problems),
  };
  // The SDK's endpoint rules refuse a custom endpoint together with FIPS or dual-stack: say so
  // before any request, naming both variables. (Partitions without dual-stack or FIPS are the SDK's
  // to judge: its refusal on the first call is exit 2 too, before anything is sent.)
  const customEndpoint = [
    VARIABLES.endpoint,
    VARIABLES.endpointSts,
    VARIABLES.endpointCodeartifact,
    VARIABLES.endpointEcr,
  ].find((name) => read(env, name) !== undefined);
  for (const [flag, on] of [
    [VARIABLES.useFipsEndpoint, endpointOptions.fips],
    [VARIABLES.useDualstackEndpoint, endpointOptions.dualStack],
  ] as const) {
    if (on && customEndpoint !== undefined) {
      problems.add(
        `${flag} is true and ${customEndpoint} sets a custom endpoint: the AWS SDK refuses that combination. Unset one of them (a custom endpoint is used as it is).`,
      );
    }
  }
  return { endpoints, endpointOptions };
}
