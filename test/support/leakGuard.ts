import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { issuedSecrets } from "../world/issued.ts";

/**
 * The suite's leak guard: every pipe run a test makes (runBuiltPipe, runStep) has its output and
 * its outputs.json scanned for the secrets the world issued in this test file, and any hit fails
 * the test that made the run. Written apart from the pipe's own redactor (src/redact.ts) on
 * purpose: a test that shared its code could not catch its mistakes.
 *
 * A secret counts as leaked if any 16 characters of it in a row appear raw, JSON-escaped,
 * percent-encoded, or inside the base64 of a `user:password` pair the pipe builds (`aws:` and
 * `AWS:`, as CodeArtifact and ECR logins use).
 */

const PIECE = 16;

function formsOf(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  for (const user of ["aws", "AWS"]) forms.add(Buffer.from(`${user}:${secret}`).toString("base64"));
  return [...forms];
}

/** Window -> what it belongs to; grows as the world issues more. */
const windows = new Map<string, string>();
let indexed = 0;

function index(): void {
  const all = issuedSecrets();
  for (; indexed < all.length; indexed++) {
    const secret = all[indexed];
    if (secret === undefined || secret.value.length < PIECE) continue;
    for (const form of formsOf(secret.value)) {
      for (let i = 0; i + PIECE <= form.length; i++) windows.set(form.slice(i, i + PIECE), secret.what);
    }
  }
}

export interface Leak {
  what: string;
  piece: string;
  where: string;
}

/** Every issued secret found in `text`, minus the values a test feeds the pipe on purpose. */
export function findLeaks(text: string, where: string, allowed: readonly string[] = []): Leak[] {
  index();
  const allowedWindows = new Set<string>();
  for (const value of allowed) {
    for (const form of formsOf(value)) {
      for (let i = 0; i + PIECE <= form.length; i++) allowedWindows.add(form.slice(i, i + PIECE));
    }
  }
  const leaks: Leak[] = [];
  for (let i = 0; i + PIECE <= text.length; i++) {
    const piece = text.slice(i, i + PIECE);
    const what = windows.get(piece);
    if (what === undefined || allowedWindows.has(piece)) continue;
    leaks.push({ what, piece, where });
    i += PIECE - 1;
  }
  return leaks;
}

/**
 * Throws (failing the test that awaited the run) when a run leaked. `allowed`: values the test
 * gave the pipe knowing the contract lets it print them; keep it to the run that needs it.
 */
export function guardRun(
  run: { output: string },
  env: Record<string, string>,
  cwd: string,
  allowed: readonly string[] = [],
): void {
  const leaks = findLeaks(run.output, "the log", allowed);
  const outputs = path.resolve(cwd, env.OUTPUT_DIR?.trim() || ".aws-oidc", "outputs.json");
  if (existsSync(outputs)) {
    try {
      leaks.push(...findLeaks(readFileSync(outputs, "utf8"), "outputs.json", allowed));
    } catch {
      // Unreadable (a test's own permissions game): the log is still checked.
    }
  }
  if (leaks.length === 0) return;
  const list = leaks.slice(0, 5).map((l) => `${l.what} in ${l.where}: …${l.piece}…`);
  throw new Error(
    `Leak guard: the pipe printed secrets the world issued:\n${list.join("\n")}\n\n${run.output}`,
  );
}
