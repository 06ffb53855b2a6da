import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { WorldClock } from "./clock.ts";
import { bracedUuid } from "./ids.ts";
import { recordIssued } from "./issued.ts";
import { listen } from "./listen.ts";

export const DEFAULT_WORKSPACE = "acme";
export const DEFAULT_WORKSPACE_UUID = "{11111111-2222-4333-8444-555555555555}";
/** The repository tokens claim unless a test names another. */
export const DEFAULT_REPOSITORY_UUID = "{7b1d3a2e-5c4f-4e8a-9b6d-0f1e2d3c4b5a}";

export interface IssuerOptions {
  workspace?: string;
  /** With or without braces; claims carry it braced, the audience without. */
  workspaceUuid?: string;
}

export interface TokenOptions {
  /** Claim another workspace's issuer URL (`iss`) while signing with this issuer's key: a forgery. */
  workspace?: string;
  workspaceUuid?: string;
  repositoryUuid?: string;
  stepUuid?: string;
  pipelineUuid?: string;
  /** Makes it a deployment step: adds the claim and puts the environment in the middle of `sub`. */
  deploymentEnvironmentUuid?: string;
  branchName?: string;
  /** Default: the issuer's audience (`ari:cloud:bitbucket::workspace/<uuid>`). */
  audience?: string | string[];
  /** `exp` = now + this; negative gives an expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Epoch seconds. Default now, or an hour before `exp` when the token is already expired. */
  issuedAt?: number;
  /** Merged last: can override any claim, and `undefined` removes one. */
  extraClaims?: Record<string, unknown>;
  /** Sign with a key that is not in the JWKS (same `kid`, so only the signature check catches it). */
  signWithForeignKey?: boolean;
}

export interface Issuer {
  /** The real Bitbucket issuer URL, as `iss` carries it. */
  url: string;
  /** `url` without `https://`: the IAM provider name and the prefix of the condition keys. */
  hostPath: string;
  /** `ari:cloud:bitbucket::workspace/<uuid without braces>` */
  audience: string;
  /** Local URL of the JWKS. */
  jwksUrl: string;
  /** Local URL of the OpenID discovery document (the local twin of `<url>/.well-known/openid-configuration`). */
  discoveryUrl: string;
  workspace: string;
  /** Braced. */
  workspaceUuid: string;
  token(o?: TokenOptions): Promise<string>;
}

/** The local stand-in for api.bitbucket.org: one HTTP server hosting every workspace's issuer. */
export interface IssuerHost {
  url: string;
  addIssuer(o?: IssuerOptions): Promise<Issuer>;
  /** Which local issuer answers for an `iss` URL, as DNS would for the real one. */
  byUrl(iss: string): Issuer | undefined;
  close(): Promise<void>;
}

const BITBUCKET_API = "https://api.bitbucket.org";
const issuerPath = (workspace: string) => `/2.0/workspaces/${workspace}/pipelines-config/identity/oidc`;
export const issuerUrl = (workspace: string): string => `${BITBUCKET_API}${issuerPath(workspace)}`;

export const braced = (uuid: string): string => `{${uuid.replace(/^\{|\}$/g, "")}}`;
export const unbraced = (uuid: string): string => uuid.replace(/^\{|\}$/g, "");

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const newKeyPair = () => generateKeyPair("RS256", { modulusLength: 2048 });

export async function startIssuerHost(clock: WorldClock = new WorldClock()): Promise<IssuerHost> {
  /** Local path (e.g. `/2.0/workspaces/acme/pipelines-config/identity/oidc`) -> document. */
  const documents = new Map<string, unknown>();
  const issuers = new Map<string, Issuer>();
  // Generated on first use: most tests never forge a token, and RSA key generation is the slow part.
  let foreignKey: Promise<KeyPair> | undefined;
  const foreignPrivateKey = async () => {
    foreignKey ??= newKeyPair();
    return (await foreignKey).privateKey;
  };

  const http = await listen((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const document = req.method === "GET" ? documents.get(path) : undefined;
    if (document === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { message: "Resource not found" } }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(document));
  });

  async function addIssuer(o: IssuerOptions = {}): Promise<Issuer> {
    const workspace = o.workspace ?? DEFAULT_WORKSPACE;
    const workspaceUuid = braced(o.workspaceUuid ?? DEFAULT_WORKSPACE_UUID);
    const url = issuerUrl(workspace);
    if (issuers.has(url)) throw new Error(`an issuer for workspace "${workspace}" already exists`);

    const keys = await newKeyPair();
    const kid = randomBytes(16).toString("hex");
    const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid, alg: "RS256", use: "sig" };
    const localBase = `${http.url}${issuerPath(workspace)}`;
    const jwksUrl = `${localBase}/keys.json`;
    const discoveryUrl = `${localBase}/.well-known/openid-configuration`;
    documents.set(`${issuerPath(workspace)}/keys.json`, { keys: [publicJwk] });
    documents.set(`${issuerPath(workspace)}/.well-known/openid-configuration`, {
      issuer: url,
      jwks_uri: jwksUrl,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      claims_supported: [
        "sub",
        "aud",
        "exp",
        "iat",
        "iss",
        "workspaceUuid",
        "repositoryUuid",
        "pipelineUuid",
        "stepUuid",
        "deploymentEnvironmentUuid",
        "branchName",
      ],
    });

    const audienceOf = (uuid: string) => `ari:cloud:bitbucket::workspace/${unbraced(uuid)}`;
    const issuer: Issuer = {
      url,
      hostPath: url.replace(/^https:\/\//, ""),
      audience: audienceOf(workspaceUuid),
      jwksUrl,
      discoveryUrl,
      workspace,
      workspaceUuid,
      async token(t: TokenOptions = {}) {
        const now = Math.floor(clock.now() / 1000);
        const exp = now + (t.expiresInSeconds ?? 3600);
        const iat = t.issuedAt ?? (exp <= now ? exp - 3600 : now);
        const tokenWorkspaceUuid = braced(t.workspaceUuid ?? workspaceUuid);
        const repositoryUuid = braced(t.repositoryUuid ?? DEFAULT_REPOSITORY_UUID);
        const stepUuid = braced(t.stepUuid ?? bracedUuid());
        const environment =
          t.deploymentEnvironmentUuid === undefined ? undefined : braced(t.deploymentEnvironmentUuid);
        // Bitbucket's own claim order, so that anything printing claims sees what it will see in CI.
        const claims: Record<string, unknown> = {
          sub: environment ? `${repositoryUuid}:${environment}:${stepUuid}` : `${repositoryUuid}:${stepUuid}`,
          stepUuid,
          iss: t.workspace === undefined ? url : issuerUrl(t.workspace),
          branchName: t.branchName ?? "main",
          aud: t.audience ?? audienceOf(tokenWorkspaceUuid),
          ...(environment ? { deploymentEnvironmentUuid: environment } : {}),
          workspaceUuid: tokenWorkspaceUuid,
          pipelineUuid: braced(t.pipelineUuid ?? bracedUuid()),
          repositoryUuid,
          exp,
          iat,
          ...t.extraClaims,
        };
        const signingKey = t.signWithForeignKey ? await foreignPrivateKey() : keys.privateKey;
        const token = await new SignJWT(claims)
          .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
          .sign(signingKey);
        recordIssued("OIDC token", token);
        recordIssued("OIDC token signature", token.split(".")[2] ?? "");
        return token;
      },
    };
    issuers.set(url, issuer);
    return issuer;
  }

  return {
    url: http.url,
    addIssuer,
    byUrl: (iss) => issuers.get(iss.replace(/\/+$/, "")),
    close: () => http.close(),
  };
}
