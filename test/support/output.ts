import { lstatSync } from "node:fs";

/** What the end-to-end tests read in a run's output and its files: defined once here. */

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
