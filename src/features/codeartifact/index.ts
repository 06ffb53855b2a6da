import path from "node:path";
import type { CodeArtifactTool } from "../../config/codeartifact.js";
import type { Contribution } from "../../outputs/render.js";
import type { Feature, FeatureContext } from "../feature.js";
import { codeArtifactCalls, explainRefusal, type Target } from "./api.js";
import { type Format, formatsFor, type ToolLogin } from "./login.js";
import { mavenLogin } from "./maven.js";
import { npmLogin } from "./npm.js";
import { nugetLogin } from "./nuget.js";
import { pythonLogin } from "./python.js";

/** Every tool reads the token from here too (Maven's settings and yarn berry's npmScopes interpolate it). */
export const TOKEN_VARIABLE = "CODEARTIFACT_AUTH_TOKEN";

/**
 * CodeArtifact login with the default credentials: one GetAuthorizationToken and one
 * GetRepositoryEndpoint per format the tools need, all at once (and at once with the
 * verification), then each tool family's files and variables.
 */
export const codeArtifactFeature: Feature = {
  name: "CodeArtifact",
  run: logIn,
};

async function logIn(context: FeatureContext): Promise<Contribution> {
  const { config, log } = context;
  const ca = config.codeartifact;
  if (ca === undefined) return { env: [] };
  const target: Target = {
    domain: ca.domain,
    repository: ca.repository,
    owner: ca.domainOwner ?? context.accountId,
    region: config.region,
  };
  // A failure here fails the run, which cancels the other calls (RetrySettings.cancel).
  const calls = codeArtifactCalls(context.aws, context.credentials);
  const formats = formatsFor(ca.tools);
  log.info(
    `Logging in to CodeArtifact: domain ${target.domain} (owner ${target.owner}), repository ${target.repository}, for ${ca.tools.join(", ")}.`,
  );
  const [authorization, ...answers] = await Promise.all([
    calls
      .authorizationToken(target, ca.durationSeconds, (token) => log.addSecret(token))
      .catch(explainRefusal("codeartifact:GetAuthorizationToken", target, context.accountId)),
    ...formats.map((format) =>
      calls
        .repositoryEndpoint(target, format)
        .then((endpoint) => [format, endpoint] as const)
        .catch(explainRefusal(`codeartifact:GetRepositoryEndpoint (${format})`, target, context.accountId)),
    ),
  ]);
  const endpoints = new Map<Format, string>(answers);
  // 0 asks for a token as long as the session: without an answer, that is the credentials' expiry.
  const expiration =
    authorization.expiration ??
    (ca.durationSeconds === 0
      ? context.credentials.expiration
      : new Date(Date.now() + ca.durationSeconds * 1000));

  const logins = toolLogins({
    tools: ca.tools,
    endpoints,
    token: authorization.token,
    scope: ca.npmScope,
    outputDir: config.outputDir,
    outputDirDisplay: config.outputDirDisplay,
  });
  log.info(
    `CodeArtifact token for ${target.domain}/${target.repository} received; it expires at ${expiration.toISOString()}.`,
  );
  for (const line of logins.flatMap((l) => l.lines)) log.info(line);

  const toolEndpoints: Partial<Record<CodeArtifactTool, string>> = Object.assign(
    {},
    ...logins.map((l) => l.endpoints),
  );
  return {
    env: [{ name: TOKEN_VARIABLE, value: authorization.token }, ...logins.flatMap((l) => l.env)],
    files: logins.flatMap((l) => l.files),
    outputs: {
      codeartifact: {
        domain: target.domain,
        repository: target.repository,
        // In the order of CODEARTIFACT_TOOLS.
        endpoints: Object.fromEntries(
          ca.tools.flatMap((tool) => (toolEndpoints[tool] ? [[tool, toolEndpoints[tool]]] : [])),
        ),
        expiration: expiration.toISOString(),
      },
    },
  };
}

export interface LoginInputs {
  tools: readonly CodeArtifactTool[];
  endpoints: ReadonlyMap<Format, string>;
  token: string;
  scope: string | undefined;
  /** Absolute. */
  outputDir: string;
  outputDirDisplay: string;
}

/** Each tool family's files and variables, from the answers. Pure. */
export function toolLogins(inputs: LoginInputs): ToolLogin[] {
  const { endpoints, token, tools } = inputs;
  const display = (file: string) => `${inputs.outputDirDisplay.replace(/\/+$/, "")}/${file}`;
  const logins: ToolLogin[] = [];
  const npm = endpoints.get("npm");
  if (npm !== undefined) {
    logins.push(
      npmLogin({
        endpoint: npm,
        token,
        scope: inputs.scope,
        tools,
        npmrcPath: path.join(inputs.outputDir, "npmrc"),
        npmrcDisplay: display("npmrc"),
      }),
    );
  }
  const pypi = endpoints.get("pypi");
  if (pypi !== undefined) logins.push(pythonLogin({ endpoint: pypi, token, tools }));
  const maven = endpoints.get("maven");
  if (maven !== undefined) {
    logins.push(mavenLogin({ endpoint: maven, tools, settingsDisplay: display("maven-settings.xml") }));
  }
  const nuget = endpoints.get("nuget");
  if (nuget !== undefined) {
    logins.push(nugetLogin({ endpoint: nuget, token, configDisplay: display("nuget.config") }));
  }
  return logins;
}
