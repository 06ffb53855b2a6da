/**
 * Every secret the world hands out in this test file (OIDC tokens and their signatures, STS
 * secret keys and session tokens, CodeArtifact tokens, ECR passwords), in the order issued: what
 * the suite's leak guard (test/support/leakGuard.ts) looks for in every pipe run's output.
 * Module state on purpose: each test file runs in its own module graph, so the registry is the
 * file's, whichever world (or how many) issued the secrets.
 */
export interface IssuedSecret {
  what: string;
  value: string;
}

const issued: IssuedSecret[] = [];

export function recordIssued(what: string, value: string): void {
  issued.push({ what, value });
}

export const issuedSecrets = (): readonly IssuedSecret[] => issued;
