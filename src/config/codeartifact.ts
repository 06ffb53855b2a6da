import { ACCOUNT_ID, type Problems, parseInteger, read, shown, splitList } from "./read.js";
import { VARIABLES } from "./variables.js";

/** The CODEARTIFACT_* variables: which repository, which tools. */

export const CODEARTIFACT_TOOLS = [
  "npm",
  "pnpm",
  "yarn",
  "pip",
  "uv",
  "poetry",
  "twine",
  "maven",
  "gradle",
  "nuget",
] as const;
export type CodeArtifactTool = (typeof CODEARTIFACT_TOOLS)[number];

export interface CodeArtifactConfig {
  domain: string;
  repository: string;
  domainOwner: string | undefined;
  tools: CodeArtifactTool[];
  npmScope: string | undefined;
  durationSeconds: number;
}

const CA_DOMAIN = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const CA_REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$/;
const NPM_SCOPE = /^@[a-z0-9][a-z0-9._~-]{0,213}$/;

function parseTools(toolsValue: string | undefined, problems: Problems): CodeArtifactTool[] {
  const tools: CodeArtifactTool[] = [];
  for (const tool of toolsValue === undefined ? ["npm"] : splitList(toolsValue.toLowerCase())) {
    if (!(CODEARTIFACT_TOOLS as readonly string[]).includes(tool)) {
      problems.add(
        `${VARIABLES.caTools}: unknown tool ${shown(tool)}; use any of ${CODEARTIFACT_TOOLS.join(", ")}.`,
      );
    } else if (!tools.includes(tool as CodeArtifactTool)) {
      tools.push(tool as CodeArtifactTool);
    }
  }
  if (toolsValue !== undefined && splitList(toolsValue).length === 0) {
    problems.add(`${VARIABLES.caTools} names no tool; use any of ${CODEARTIFACT_TOOLS.join(", ")}.`);
  }
  return tools;
}

/** Undefined when CodeArtifact is off (neither domain nor repository set). */
export function parseCodeArtifact(
  env: NodeJS.ProcessEnv,
  problems: Problems,
): CodeArtifactConfig | undefined {
  const domain = read(env, VARIABLES.caDomain);
  const repository = read(env, VARIABLES.caRepository);
  const owner = read(env, VARIABLES.caDomainOwner);
  const toolsValue = read(env, VARIABLES.caTools);
  const scope = read(env, VARIABLES.caNpmScope);
  const durationSet = read(env, VARIABLES.caDuration) !== undefined;
  if (domain === undefined && repository === undefined) {
    const stray = [
      [VARIABLES.caDomainOwner, owner],
      [VARIABLES.caTools, toolsValue],
      [VARIABLES.caNpmScope, scope],
      [VARIABLES.caDuration, durationSet ? "set" : undefined],
    ].filter(([, v]) => v !== undefined);
    for (const [name] of stray) {
      problems.add(
        `${name} is set but CodeArtifact is off: set CODEARTIFACT_DOMAIN and CODEARTIFACT_REPOSITORY too.`,
      );
    }
    return undefined;
  }
  if (domain === undefined) problems.add(`${VARIABLES.caDomain} is required with ${VARIABLES.caRepository}.`);
  if (repository === undefined)
    problems.add(`${VARIABLES.caRepository} is required with ${VARIABLES.caDomain}.`);
  if (domain !== undefined && !CA_DOMAIN.test(domain)) {
    problems.add(
      `${VARIABLES.caDomain} must be a CodeArtifact domain name (2-50 of a-z, 0-9 and -), got ${shown(domain)}.`,
    );
  }
  if (repository !== undefined && !CA_REPOSITORY.test(repository)) {
    problems.add(
      `${VARIABLES.caRepository} must be a CodeArtifact repository name (2-100 of A-Z, a-z, 0-9, ., _ and -), got ${shown(repository)}.`,
    );
  }
  if (owner !== undefined && !ACCOUNT_ID.test(owner)) {
    problems.add(`${VARIABLES.caDomainOwner} must be a 12-digit AWS account id, got ${shown(owner)}.`);
  }
  const tools = parseTools(toolsValue, problems);
  if (scope !== undefined && !NPM_SCOPE.test(scope)) {
    problems.add(
      `${VARIABLES.caNpmScope} must be an npm scope like @acme (lower case), got ${shown(scope)}.`,
    );
  }
  if (scope !== undefined && !tools.some((t) => t === "npm" || t === "pnpm" || t === "yarn")) {
    problems.add(`${VARIABLES.caNpmScope} is set but ${VARIABLES.caTools} has no npm, pnpm or yarn.`);
  }
  const durationSeconds = parseInteger(
    env,
    "caDuration",
    (n) => n === 0 || (n >= 900 && n <= 43200),
    "0 (as long as the role session) or from 900 to 43200",
    problems,
  );
  return {
    domain: domain ?? "",
    repository: repository ?? "",
    domainOwner: owner,
    tools,
    npmScope: scope,
    durationSeconds,
  };
}
