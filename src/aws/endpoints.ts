import { CONFIG_PREFIX_SEPARATOR, loadConfig } from "@smithy/core/config";
import { endpointUrlProblem } from "../endpointUrl.js";
import { inputError } from "../errors.js";
import { withoutUserinfo } from "../redact.js";

/**
 * Endpoints from the shared AWS config file (`AWS_CONFIG_FILE`, `~/.aws/config`): the SDK would use
 * an `endpoint_url` there by itself, and it must obey the same rule as AWS_ENDPOINT_URL*. The pipe
 * reads them here, through the SDK's own loader and profile resolution, checks them before any
 * request, and hands every client its endpoint explicitly (with the SDK's own lookup turned off), so
 * that what was checked is what is used.
 */
export type ServiceName = "sts" | "codeartifact" | "ecr";

/** `endpoint_url` in the profile's services section for this service, else the profile's own. */
const configFileEndpoint = (service: ServiceName) =>
  loadConfig<string | undefined>({
    environmentVariableSelector: () => undefined,
    configFileSelector: (profile, config) => {
      if (profile.services) {
        const section = config?.[["services", profile.services].join(CONFIG_PREFIX_SEPARATOR)];
        const url = section?.[[service, "endpoint_url"].join(CONFIG_PREFIX_SEPARATOR)];
        if (url) return url;
      }
      return profile.endpoint_url || undefined;
    },
    default: undefined,
  });

const ignoreConfigured = loadConfig<boolean>({
  environmentVariableSelector: (env) =>
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === undefined
      ? undefined
      : env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.toLowerCase() === "true",
  configFileSelector: (profile) =>
    profile.ignore_configured_endpoint_urls === undefined
      ? undefined
      : profile.ignore_configured_endpoint_urls.toLowerCase() === "true",
  default: false,
});

/**
 * The endpoint each service gets: the variable's when set (already checked with the other
 * variables), else the shared config file's, checked here; undefined: the SDK's rules decide.
 */
export async function resolveEndpoints(
  fromVariables: Readonly<Record<ServiceName, string | undefined>>,
  services: readonly ServiceName[],
): Promise<Record<ServiceName, string | undefined>> {
  const resolved = { ...fromVariables };
  const open = services.filter((service) => resolved[service] === undefined);
  if (open.length === 0 || (await ignoreConfigured())) return resolved;
  for (const service of open) {
    const url = await configFileEndpoint(service)();
    if (url === undefined) continue;
    const problem = endpointUrlProblem(url);
    if (problem !== undefined) {
      throw inputError(
        `The shared AWS config file's endpoint_url for ${service} ${problem}, got ${JSON.stringify(withoutUserinfo(url))}.`,
        {
          fix: "Fix or remove that endpoint_url in AWS_CONFIG_FILE (or ~/.aws/config), or set AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.",
        },
      );
    }
    resolved[service] = url;
  }
  return resolved;
}
