import { lstatSync, statSync } from "node:fs";

/** What the end-to-end and security tests read in a run's output and its files: defined once here. */

/** The last line of a log: the ✔ or ✖ line. */
export const lastLine = (text: string): string => text.trimEnd().split("\n").at(-1) ?? "";

/** Whether anything is at `target`, a dangling symlink included. */
export const exists = (target: string): boolean => {
  try {
    lstatSync(target);
    return true;
  } catch {
    return false;
  }
};

/** A file's or folder's permission bits (0o600, 0o700, …). */
export const fileMode = (target: string): number => statSync(target).mode & 0o777;

/** The contract's piece length: no 16 characters of a secret in a row may appear. */
const PIECE = 16;

/** Every 16-character piece of `secret`, raw, JSON-escaped or percent-encoded, that `text` holds. */
export function piecesIn(text: string, secret: string): string[] {
  const forms = [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
  const found: string[] = [];
  for (const form of forms) {
    for (let i = 0; i + PIECE <= form.length; i++) {
      const piece = form.slice(i, i + PIECE);
      if (text.includes(piece)) found.push(piece);
    }
  }
  return found;
}
