import { CODEARTIFACT_USER, escapeXml, type ToolLogin } from "./login.js";

/**
 * NuGet (dotnet, nuget.exe): a config file with the repository's V3 service index as the source
 * `codeartifact` and the token as its ClearTextPassword (user `aws`), for `--configfile`. With
 * `--configfile` NuGet reads that file instead of the project's nuget.config chain.
 */
export const NUGET_ENV = { url: "CODEARTIFACT_NUGET_URL" } as const;
export const NUGET_SOURCE = "codeartifact";

export interface NugetLogin {
  /** The nuget repository endpoint, ending with `/`. */
  endpoint: string;
  token: string;
  /** OUTPUT_DIR/nuget.config as the user wrote OUTPUT_DIR, for messages. */
  configDisplay: string;
}

/** NuGet clients take the V3 service index, not the bare endpoint. */
export const serviceIndex = (endpoint: string): string => `${endpoint}v3/index.json`;

export function renderNugetConfig(endpoint: string, token: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="${NUGET_SOURCE}" value="${escapeXml(serviceIndex(endpoint))}" protocolVersion="3" />
  </packageSources>
  <packageSourceCredentials>
    <${NUGET_SOURCE}>
      <add key="Username" value="${CODEARTIFACT_USER}" />
      <add key="ClearTextPassword" value="${escapeXml(token)}" />
    </${NUGET_SOURCE}>
  </packageSourceCredentials>
</configuration>
`;
}

export function nugetLogin(login: NugetLogin): ToolLogin {
  const index = serviceIndex(login.endpoint);
  return {
    env: [{ name: NUGET_ENV.url, value: index }],
    files: [{ name: "nuget.config", content: renderNugetConfig(login.endpoint, login.token) }],
    endpoints: { nuget: index },
    lines: [`CodeArtifact nuget: source ${NUGET_SOURCE} at ${index}: --configfile ${login.configDisplay}.`],
  };
}
