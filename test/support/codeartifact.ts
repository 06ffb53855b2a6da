/** For the CodeArtifact feature's tests (test/features/codeartifact/): endpoints and a token. */

export const HOST = "acme-111111111111.d.codeartifact.ap-southeast-2.amazonaws.com";
export const NPM = `https://${HOST}/npm/npm-store/`;
export const PYPI = `https://${HOST}/pypi/py-store/`;
export const MAVEN = `https://${HOST}/maven/mvn-store/`;
export const NUGET = `https://${HOST}/nuget/nuget-store/`;
/** Real tokens are base64url; this one also has the characters quoting bugs trip over. */
export const TOKEN = "eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc/def+ghi=&<\"'>";
export const NPMRC = "/build/.aws-oidc/npmrc";
