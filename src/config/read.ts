import { escapeControl, firstControl, printableJson } from "../printable.js";
import { boundedText } from "../redact.js";
import { REGISTRY, VARIABLES, type VariableKey } from "./variables.js";

/** The parsers' common ground: reading one variable, and collecting every problem at once. */

/** Collects every problem instead of stopping at the first, so one run shows them all. */
export class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    // Messages quote values the user set; whatever they hold, a problem stays one printable line.
    this.list.push(escapeControl(message));
  }
}

/** Shows a bad value without echoing it whole: it may be a secret pasted into the wrong variable. */
export const shown = (value: string): string =>
  printableJson(value.length > 40 ? boundedText(value, 20) : value);

/**
 * Reads one variable set. Empty and whitespace-only values count as unset: Bitbucket passes
 * `$UNDEFINED_VARIABLE` through as an empty string.
 */
export const read = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  return value.trim();
};

export const splitList = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== "");

export const ACCOUNT_ID = /^\d{12}$/;

/** Values that may span lines: there, tab, CR and LF are only blanks between items. */
const MULTI_LINE = new Set<string>([
  VARIABLES.profiles,
  VARIABLES.sessionPolicy,
  VARIABLES.sessionPolicyArns,
  VARIABLES.allowedAccounts,
  VARIABLES.caTools,
  VARIABLES.ecrRegistryIds,
]);
/** Read by the transport, not the parser: held to the same rule. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];
const BLANKS = /[\t\r\n]/g;

/**
 * A control character in a variable is never meant (a stray paste, or an attempt to forge log
 * lines or file content): refused by name, with where it is, never the value itself.
 */
export function checkControlCharacters(env: NodeJS.ProcessEnv, problems: Problems): void {
  for (const name of [...Object.values(VARIABLES), ...PROXY_VARIABLES]) {
    const value = env[name];
    if (value === undefined) continue;
    const checked = MULTI_LINE.has(name) ? value.replace(BLANKS, " ") : value;
    const at = firstControl(checked);
    if (at < 0) continue;
    const char = escapeControl(checked.charAt(at));
    problems.add(
      `${name} contains a control character (${char} at position ${at + 1})${MULTI_LINE.has(name) ? "" : "; it must be on one line"}: set it again without it.`,
    );
  }
}

/** The default a row of the registry gives. */
const defaultOf = (key: VariableKey): string | undefined => REGISTRY[key].default;

/** A `true`/`false` variable (any case), its default from the registry. */
export function parseBoolean(env: NodeJS.ProcessEnv, key: VariableKey, problems: Problems): boolean {
  const name = VARIABLES[key];
  const fallback = defaultOf(key) === "true";
  const value = read(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  problems.add(`${name} must be true or false, got ${shown(value)}.`);
  return fallback;
}

/** A whole-number variable, its default from the registry. */
export function parseInteger(
  env: NodeJS.ProcessEnv,
  key: VariableKey,
  accept: (n: number) => boolean,
  range: string,
  problems: Problems,
): number {
  const name = VARIABLES[key];
  const fallback = Number(defaultOf(key));
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !accept(Number(value))) {
    problems.add(`${name} must be a whole number ${range}, got ${shown(value)}.`);
    return fallback;
  }
  return Number(value);
}

/** Comma- or blank-separated 12-digit account ids, each once. */
export function parseAccountIds(env: NodeJS.ProcessEnv, name: string, problems: Problems): string[] {
  const value = read(env, name);
  if (value === undefined) return [];
  const ids = splitList(value);
  const bad = ids.filter((id) => !ACCOUNT_ID.test(id));
  if (bad.length > 0) {
    problems.add(
      `${name} must be comma-separated 12-digit AWS account ids; not one: ${bad.map(shown).join(", ")}.`,
    );
  }
  return [...new Set(ids.filter((id) => ACCOUNT_ID.test(id)))];
}
