/**
 * How STS checks a web identity token: find the account's IAM OIDC provider for `iss`, fetch the
 * issuer's discovery document and JWKS over HTTP, verify the signature, then audience and expiry.
 */
import { compactVerify, createLocalJWKSet, decodeJwt, errors, type JSONWebKeySet } from "jose";
import type { Iam, Provider } from "./iam.ts";
import { ApiError } from "./wire.ts";

export interface WebIdentity {
  provider: Provider;
  iss: string;
  sub: string;
  /** Always a list, whether the token carries one audience or several. */
  aud: string[];
  exp: number;
  claims: Record<string, unknown>;
}

const invalid = (message: string, detail?: string) =>
  new ApiError(400, "InvalidIdentityToken", message, {}, detail);
const NO_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
const NOT_VALIDATED =
  "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";
const IDP_UNREACHABLE =
  "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. Try again later.";

async function fetchJson(url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new ApiError(400, "IDPCommunicationError", IDP_UNREACHABLE, {}, `${url}: ${String(error)}`);
  }
  if (!response.ok) throw invalid(NO_KEY, `${url} answered ${response.status}`);
  try {
    return await response.json();
  } catch {
    throw invalid(NO_KEY, `${url} did not answer JSON`);
  }
}

/** The issuer's keys, fetched fresh each time so that tests may change them between calls. */
async function issuerKeys(provider: Provider, iss: string): Promise<JSONWebKeySet> {
  const discovery = (await fetchJson(provider.discoveryUrl)) as { issuer?: unknown; jwks_uri?: unknown };
  if (discovery.issuer !== iss || typeof discovery.jwks_uri !== "string") {
    throw invalid(NO_KEY, `discovery document names issuer ${String(discovery.issuer)}, token says ${iss}`);
  }
  const jwks = (await fetchJson(discovery.jwks_uri)) as { keys?: unknown };
  if (!Array.isArray(jwks.keys)) throw invalid(NO_KEY, "JWKS has no keys");
  return jwks as JSONWebKeySet;
}

export async function verifyWebIdentity(
  token: string,
  account: string,
  iam: Iam,
  now = Date.now(),
): Promise<WebIdentity> {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch (error) {
    throw invalid(
      "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
      String(error),
    );
  }
  const { iss, sub, aud, exp } = claims;
  if (typeof iss !== "string" || !iss.startsWith("https://"))
    throw invalid(NOT_VALIDATED, "iss missing or not https");

  const provider = iam.findProvider(account, iss);
  if (!provider) throw invalid(`No OpenIDConnect provider found in your account for ${iss}`);

  const keys = await issuerKeys(provider, iss);
  try {
    await compactVerify(token, createLocalJWKSet(keys), {
      algorithms: ["RS256", "RS384", "RS512", "ES256", "ES384"],
    });
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey)
      throw invalid(NO_KEY, "no key in the JWKS matches the token's kid");
    throw invalid(NOT_VALIDATED, `signature check failed: ${String(error)}`);
  }

  const audiences =
    typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === "string") : [];
  if (!audiences.some((a) => provider.clientIds.includes(a))) {
    throw invalid(
      "Incorrect token audience",
      `aud ${JSON.stringify(aud)} not in ${JSON.stringify(provider.clientIds)}`,
    );
  }
  if (typeof exp !== "number") throw invalid(NOT_VALIDATED, "exp missing");
  const nowSeconds = Math.floor(now / 1000);
  if (nowSeconds >= exp) {
    // Sic: AWS's message has no space before the second number.
    throw new ApiError(
      400,
      "ExpiredTokenException",
      `Token expired: current date/time ${nowSeconds} must be before the expiration date/time${exp}`,
    );
  }
  if (typeof sub !== "string" || sub === "") throw invalid(NOT_VALIDATED, "sub missing");
  return { provider, iss, sub, aud: audiences, exp, claims };
}
