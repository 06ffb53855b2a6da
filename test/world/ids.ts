import { randomBytes, randomInt, randomUUID } from "node:crypto";

// The character sets AWS uses for its identifiers and secrets. Secrets and session tokens carry
// `/`, `+` and `=` as the real ones do, so that quoting bugs in the code under test show up here.
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function pick(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** `ASIA` + 16: the prefix AWS gives temporary (STS) access keys. */
export const temporaryAccessKeyId = (): string => `ASIA${pick(UPPER_ALNUM, 16)}`;

export const secretAccessKey = (): string => pick(BASE64, 40);

/** Real session tokens are several hundred base64 characters starting with a fixed version prefix. */
export const sessionToken = (): string => `IQoJb3JpZ2luX2VjE${randomBytes(600).toString("base64")}`;

/** `AROA` + 17: the unique id IAM gives a role; the `UserId` of its sessions starts with it. */
export const roleUniqueId = (): string => `AROA${pick(UPPER_ALNUM, 17)}`;

export const requestId = (): string => randomUUID();

/** Opaque bearer tokens such as CodeArtifact's and ECR's: long and URL-safe. */
export const bearerToken = (bytes = 900): string =>
  `eyJ2ZXIiOjEsImlzdSI6${randomBytes(bytes).toString("base64url")}`;

/** A Bitbucket-style UUID: lower-case, in braces. */
export const bracedUuid = (): string => `{${randomUUID()}}`;
