import type { CodeArtifactTool } from "../../config/codeartifact.js";
import type { EnvEntry } from "../../outputs/shell.js";
import type { ToolLogin } from "./login.js";

/**
 * npm, pnpm and yarn, as each really behaves (checked with the real clients):
 * - npm (and pnpm 9 to 12) read the user config named by NPM_CONFIG_USERCONFIG: `registry=` or
 *   `@scope:registry=`, and the token keyed by the registry's host and path (`//host/path/:_authToken=`).
 * - yarn classic (1.x) reads only the lower-case `npm_config_userconfig`, and sends the token for
 *   unscoped packages only with `always-auth` (npm 11 warns that it does not know that key).
 * - yarn berry (2+) reads no npmrc: YARN_NPM_REGISTRY_SERVER, YARN_NPM_AUTH_TOKEN and
 *   YARN_NPM_ALWAYS_AUTH, which win over `.yarnrc.yml`. A scope can't be given by variables:
 *   the project's `.yarnrc.yml` names it (`npmScopes`, with `${CODEARTIFACT_AUTH_TOKEN}`).
 */
export const NPM_ENV = {
  userConfig: "NPM_CONFIG_USERCONFIG",
  /** yarn classic reads only this spelling. */
  userConfigLower: "npm_config_userconfig",
  url: "CODEARTIFACT_NPM_URL",
  yarnServer: "YARN_NPM_REGISTRY_SERVER",
  yarnToken: "YARN_NPM_AUTH_TOKEN",
  yarnAlwaysAuth: "YARN_NPM_ALWAYS_AUTH",
} as const;

export interface NpmLogin {
  /** The npm repository endpoint, ending with `/`. */
  endpoint: string;
  token: string;
  /** `@acme`: only that scope goes to CodeArtifact. */
  scope: string | undefined;
  tools: readonly CodeArtifactTool[];
  /** Absolute path of OUTPUT_DIR/npmrc. */
  npmrcPath: string;
  /** OUTPUT_DIR/npmrc as the user wrote OUTPUT_DIR, for messages. */
  npmrcDisplay: string;
}

/** `//host[:port]/path/`: the key npm matches credentials by (its "nerf dart"). */
export function registryKey(endpoint: string): string {
  const url = new URL(endpoint);
  const pathname = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
  return `//${url.host}${pathname}`;
}

/** The npmrc for npm, pnpm and yarn classic. */
export function renderNpmrc(login: NpmLogin): string {
  const key = registryKey(login.endpoint);
  const lines = [
    login.scope === undefined ? `registry=${login.endpoint}` : `${login.scope}:registry=${login.endpoint}`,
    `${key}:_authToken=${login.token}`,
  ];
  // yarn classic sends the token for unscoped packages only with always-auth; scoped ones get it anyway.
  if (login.tools.includes("yarn") && login.scope === undefined) lines.push(`${key}:always-auth=true`);
  return `${lines.join("\n")}\n`;
}

export function npmLogin(login: NpmLogin): ToolLogin {
  const tools = login.tools.filter((t) => t === "npm" || t === "pnpm" || t === "yarn");
  const env: EnvEntry[] = [
    { name: NPM_ENV.userConfig, value: login.npmrcPath },
    { name: NPM_ENV.url, value: login.endpoint },
  ];
  const served = login.scope === undefined ? "every package" : `only ${login.scope}`;
  const lines: string[] = [];
  for (const tool of tools) {
    if (tool === "yarn") continue;
    lines.push(
      `CodeArtifact ${tool}: ${login.endpoint} serves ${served}, from ${login.npmrcDisplay} (NPM_CONFIG_USERCONFIG).`,
    );
  }
  if (tools.includes("yarn")) {
    env.push({ name: NPM_ENV.userConfigLower, value: login.npmrcPath });
    if (login.scope === undefined) {
      env.push(
        { name: NPM_ENV.yarnServer, value: login.endpoint },
        { name: NPM_ENV.yarnToken, value: login.token },
        { name: NPM_ENV.yarnAlwaysAuth, value: "true" },
      );
      lines.push(
        `CodeArtifact yarn: ${login.endpoint} serves every package; yarn 1 from ${login.npmrcDisplay} (npm_config_userconfig), yarn 2+ from YARN_NPM_REGISTRY_SERVER and YARN_NPM_AUTH_TOKEN.`,
      );
    } else {
      lines.push(
        `CodeArtifact yarn: ${login.endpoint} serves only ${login.scope}; yarn 1 from ${login.npmrcDisplay}; yarn 2+ needs npmScopes in .yarnrc.yml with "\${CODEARTIFACT_NPM_URL}" and "\${CODEARTIFACT_AUTH_TOKEN}".`,
      );
    }
  }
  return {
    env,
    files: [{ name: "npmrc", content: renderNpmrc(login) }],
    endpoints: Object.fromEntries(tools.map((tool) => [tool, login.endpoint])),
    lines,
  };
}
