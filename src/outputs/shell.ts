/**
 * POSIX shell quoting: the whole value in single quotes, each `'` written as `'\''`. Inside single
 * quotes sh and bash take every byte literally (`$`, backticks, `\`, newlines), so any value
 * without a NUL byte round-trips through `.`/`source` in every POSIX shell.
 */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type EnvEntry = { name: string; value: string } | { name: string; unset: true };

/** The `env` file: only `export NAME='value'` and `unset NAME` lines. */
export function renderEnvFile(entries: readonly EnvEntry[]): string {
  const lines = entries.map((entry) => {
    if (!NAME.test(entry.name)) throw new Error(`not a shell variable name: ${entry.name}`);
    if ("unset" in entry) return `unset ${entry.name}`;
    if (entry.value.includes("\0"))
      throw new Error(`${entry.name} holds a NUL byte, which no shell can carry`);
    return `export ${entry.name}=${shellQuote(entry.value)}`;
  });
  return `${lines.join("\n")}\n`;
}

/**
 * `docker run --env-file` reads `NAME=value` literally, one per line, with no quoting at all, so a
 * value with a line break cannot be carried: refuse it rather than write a broken file.
 */
export function renderDockerEnvFile(entries: readonly EnvEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    if ("unset" in entry) continue;
    if (/[\r\n\0]/.test(entry.value))
      throw new Error(`${entry.name} has a line break; docker --env-file cannot carry it`);
    lines.push(`${entry.name}=${entry.value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A word as a person would type it: bare when every shell reads it literally, else quoted. */
export const shellWord = (value: string): string =>
  /^[A-Za-z0-9_./@%+:,-]+$/.test(value) ? value : shellQuote(value);
