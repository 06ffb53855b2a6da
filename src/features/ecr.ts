import path from "node:path";
import {
  ECRClient,
  GetAuthorizationTokenCommand,
  type GetAuthorizationTokenCommandOutput,
} from "@aws-sdk/client-ecr";
import { isEndpoint, isFutureDate, isTokenShape, unexpectedAnswer } from "../answers.js";
import { clientConfig } from "../aws/clients.js";
import { httpStatus } from "../aws/errors.js";
import { withRetry } from "../aws/retry.js";
import { ecrRefusal } from "../diagnose.js";
import { isPipeError } from "../errors.js";
import type { Contribution } from "../outputs/render.js";
import type { Feature, FeatureContext } from "./feature.js";

/**
 * Docker logged in to Amazon ECR for the rest of the step (ECR_LOGIN): one
 * ecr:GetAuthorizationToken with the default credentials, concurrent with the verification. Its
 * token serves every registry the role may reach, so the other accounts' registries
 * (ECR_REGISTRY_IDS) get the same credentials, under hosts derived from the answer's own.
 * The result is a Docker client config folder, exported as DOCKER_CONFIG.
 */

export const DOCKER_CONFIG_VARIABLE = "DOCKER_CONFIG";
/** The folder under OUTPUT_DIR that DOCKER_CONFIG names; the Docker CLI reads `config.json` in it. */
export const DOCKER_CONFIG_DIR = "docker";
const CALL = "ecr:GetAuthorizationToken";
const SERVICE = "ECR";
/** ECR's tokens last 12 hours: used only if an answer ever leaves `expiresAt` out. */
const TOKEN_HOURS = 12;

/** ECR's `authorizationToken` is base64 of `user:password` (the user is `AWS`). */
export function decodeAuthorizationToken(token: string): { user: string; password: string } {
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) throw unexpectedAnswer(SERVICE, "authorizationToken");
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!isTokenShape(user) || !isTokenShape(password)) throw unexpectedAnswer(SERVICE, "authorizationToken");
  return { user, password };
}

/**
 * The registry hosts to log in to: the host of ECR's `proxyEndpoint` (the caller's own registry,
 * `<account>.dkr.ecr.<region>.<partition's DNS suffix>`), and that host with the account replaced
 * for every other id. The suffix is never written here: China, GovCloud, FIPS and dual-stack
 * endpoints differ, and the answer knows which one applies. `underived` lists the ids for which
 * no host could be made (an endpoint that does not start with an account id).
 */
export function registryHosts(
  proxyEndpoint: string,
  registryIds: readonly string[],
): { hosts: string[]; underived: string[] } {
  const host = new URL(
    /^[a-z][a-z0-9+.-]*:\/\//i.test(proxyEndpoint) ? proxyEndpoint : `https://${proxyEndpoint}`,
  ).host;
  const own = /^(\d{12})\./.exec(host)?.[1];
  const hosts = [host];
  const underived: string[] = [];
  for (const id of registryIds) {
    if (id === own) continue;
    if (own === undefined) {
      underived.push(id);
      continue;
    }
    const other = `${id}${host.slice(own.length)}`;
    if (!hosts.includes(other)) hosts.push(other);
  }
  return { hosts, underived };
}

/**
 * A Docker client `config.json` with one `auths` entry per host, keyed by the bare host as
 * `docker login <host>` writes it, and `auth` = base64 of `user:password` (what the CLI sends as
 * HTTP basic credentials). No credsStore: the folder is ours, the file is the store.
 */
export function dockerConfigJson(hosts: readonly string[], user: string, password: string): string {
  const auth = Buffer.from(`${user}:${password}`, "utf8").toString("base64");
  const auths = Object.fromEntries(hosts.map((host) => [host, { auth }]));
  return `${JSON.stringify({ auths }, null, 2)}\n`;
}

async function logIn(context: FeatureContext): Promise<Contribution> {
  const { config, log } = context;
  if (config.ecr === undefined) return { env: [] };
  const client = new ECRClient(clientConfig(context.aws, "ecr", context.credentials));
  const command = new GetAuthorizationTokenCommand({});
  let answer: GetAuthorizationTokenCommandOutput;
  try {
    answer = await withRetry(
      CALL,
      (abortSignal) => client.send(command, { abortSignal }),
      context.aws.retry,
      context.aws.onRetry,
    );
  } catch (error) {
    // Our own errors (gave up on a transient fault) and anything that is not an AWS answer pass through.
    if (isPipeError(error) || httpStatus(error) === undefined) throw error;
    throw ecrRefusal(CALL, error, { region: context.aws.region, accountId: context.accountId });
  }
  const data = answer.authorizationData?.[0];
  const token = data?.authorizationToken;
  // Unprintable before anything else happens to it: the token, what it decodes to, the password.
  if (typeof token === "string") {
    log.addSecret(token);
    const decoded = Buffer.from(token, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) log.addBasicPair(decoded.slice(0, colon), decoded.slice(colon + 1));
  }
  if (!token) throw unexpectedAnswer(SERVICE, "authorizationToken");
  if (!isEndpoint(data?.proxyEndpoint)) throw unexpectedAnswer(SERVICE, "proxyEndpoint");
  if (data.expiresAt !== undefined && !isFutureDate(data.expiresAt, Date.now())) {
    throw unexpectedAnswer(SERVICE, "expiresAt");
  }
  const { user, password } = decodeAuthorizationToken(token);

  const { hosts, underived } = registryHosts(data.proxyEndpoint, config.ecr.registryIds);
  if (underived.length > 0) {
    log.warn(
      `ECR_REGISTRY_IDS: ECR's registry endpoint ${hosts[0]} does not start with an account id, so no registry host could be derived for ${underived.join(", ")}.`,
    );
  }
  const expiration = data.expiresAt ?? new Date(Date.now() + TOKEN_HOURS * 3600_000);
  const folder = path.join(config.outputDir, DOCKER_CONFIG_DIR);
  log.info(
    `Docker is logged in to Amazon ECR: ${hosts.join(", ")} (until ${expiration.toISOString()}; ${DOCKER_CONFIG_VARIABLE}=${config.outputDirDisplay.replace(/\/+$/, "")}/${DOCKER_CONFIG_DIR}).`,
  );
  return {
    env: [{ name: DOCKER_CONFIG_VARIABLE, value: folder }],
    files: [{ name: "docker/config.json", content: dockerConfigJson(hosts, user, password) }],
    outputs: { ecr: { registries: hosts, expiration: expiration.toISOString() } },
  };
}

export const ecrFeature: Feature = { name: "ECR", run: logIn };
