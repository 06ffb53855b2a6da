import { isPipeError } from "../errors.js";
import { readStepClaims } from "../token.js";
import { parseUuid, workspaceFromIssuer } from "../trust.js";
import { parseIpRanges } from "./ipRanges.js";

/**
 * What `template` reads besides its flags: the step's token (`--from-token`) and Atlassian's
 * published IP ranges (`--ip-ranges FILE`). Problems go to the caller's list, with the others.
 */

/** Bitbucket's default audience, before the workspace UUID. */
export const AUDIENCE_PREFIX = "ari:cloud:bitbucket::workspace/";

/** What `--from-token` takes from the step's token. */
interface FromToken {
  workspace?: string;
  workspaceUuid?: string;
  repositoryUuid?: string;
  environmentUuid?: string;
  /** The step's custom `oidc: audiences:`, when it has them. */
  customAudiences: string[];
}

export function fromToken(env: NodeJS.ProcessEnv, problems: string[]): FromToken {
  const found: FromToken = { customAudiences: [] };
  try {
    const claims = readStepClaims(env);
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const audienceUuid = audiences
      .find((aud) => aud.startsWith(AUDIENCE_PREFIX))
      ?.slice(AUDIENCE_PREFIX.length);
    found.customAudiences = audiences.filter((aud) => !aud.startsWith(AUDIENCE_PREFIX));
    const workspace = workspaceFromIssuer(claims.iss);
    const workspaceUuid = parseUuid(claims.workspaceUuid ?? audienceUuid ?? "");
    const [subRepository, subEnvironment] = claims.sub.split(":");
    const repositoryUuid = parseUuid(claims.repositoryUuid ?? subRepository ?? "");
    // `sub` decides what IAM compares; it names the environment only on a deployment step.
    const environmentUuid = claims.sub.split(":").length === 3 ? parseUuid(subEnvironment ?? "") : undefined;
    if (workspace) found.workspace = workspace;
    else problems.push(`--from-token: the token's issuer "${claims.iss}" is not a Bitbucket workspace's.`);
    if (workspaceUuid) found.workspaceUuid = workspaceUuid;
    else if (found.customAudiences.length === 0)
      problems.push("--from-token: the token carries no workspace UUID.");
    if (repositoryUuid) found.repositoryUuid = repositoryUuid;
    else problems.push("--from-token: the token carries no repository UUID.");
    if (environmentUuid) found.environmentUuid = environmentUuid;
  } catch (error) {
    if (!isPipeError(error)) throw error;
    problems.push(`--from-token: ${error.message}${error.fix ? ` ${error.fix}` : ""}`);
  }
  return found;
}

export function readIpRanges(path: string, problems: string[], readFile: (path: string) => string): string[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push(`--ip-ranges: cannot read "${path}": ${reason}`);
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push(
      `--ip-ranges: "${path}" is not JSON (download https://ip-ranges.atlassian.com/ unchanged).`,
    );
    return [];
  }
  try {
    const cidrs = parseIpRanges(json);
    if (cidrs.length === 0) {
      problems.push(`--ip-ranges: "${path}" has no entry with product bitbucket and direction egress.`);
    }
    return cidrs;
  } catch (error) {
    if (!isPipeError(error)) throw error;
    problems.push(`--ip-ranges: ${error.message}`);
    return [];
  }
}
