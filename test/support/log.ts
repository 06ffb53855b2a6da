import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { createLog, type Log } from "../../src/log.ts";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/**
 * The pipe's real log, writing to a file instead of the test's stdout: `lines()` reads back what a
 * Bitbucket log would show.
 */
export function capturedLog(options: { debug?: boolean } = {}): {
  log: Log;
  lines(): string[];
  close(): void;
} {
  const folder = mkdtempSync(path.join(tmpdir(), "bb-log-"));
  folders.push(folder);
  const file = path.join(folder, "log");
  const fd = openSync(file, "w");
  return {
    log: createLog({ fd, ...(options.debug === undefined ? {} : { debug: options.debug }) }),
    lines: () => readFileSync(file, "utf8").split("\n").slice(0, -1),
    close: () => closeSync(fd),
  };
}
