import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * `template`'s command line: node:util's parseArgs reads it (`--flag VALUE`, `--flag=VALUE`,
 * `-h`, `--`), and this module turns what it read into values and problems, one problem per bad
 * flag, all at once, so that a user fixes a command line in one go.
 */

type FlagKind = "value" | "list" | "switch";

export const FLAGS = {
  workspace: "value",
  "workspace-uuid": "value",
  "repository-uuid": "list",
  "environment-uuid": "list",
  audience: "list",
  "source-ip": "list",
  "ip-ranges": "value",
  "role-name": "value",
  "max-session-duration": "value",
  "existing-provider-arn": "value",
  "cdk-qualifier": "value",
  "cdk-access": "value",
  "read-only": "value",
  codeartifact: "value",
  ecr: "value",
  "from-token": "switch",
  format: "value",
  help: "switch",
  version: "switch",
} as const satisfies Record<string, FlagKind>;

export type FlagName = keyof typeof FLAGS;

/** Repeatable flags whose values never contain a comma, so `--repository-uuid a,b` means two. */
const COMMA_LISTS = new Set<FlagName>(["repository-uuid", "environment-uuid", "source-ip"]);

export interface ParsedFlags {
  values: Map<FlagName, string[]>;
  /** Every flag that was given, even with a bad value: it is then not reported again as missing. */
  given: Set<FlagName>;
  problems: string[];
}

const isFlag = (name: string): name is FlagName => Object.hasOwn(FLAGS, name);

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
};

/** The flag the user probably meant: one that starts with what was typed, else the nearest spelling. */
const suggestion = (name: string): string => {
  const known = Object.keys(FLAGS).filter((flag) => flag !== "help" && flag !== "version");
  const prefixed = name.length >= 3 ? known.find((flag) => flag.startsWith(name)) : undefined;
  const nearest = known.map((flag) => ({ flag, d: distance(name, flag) })).sort((x, y) => x.d - y.d)[0];
  const best = prefixed ?? (nearest && nearest.d <= 2 ? nearest.flag : undefined);
  return best ? ` Did you mean --${best}?` : "";
};

const OPTIONS: NonNullable<ParseArgsConfig["options"]> = Object.fromEntries(
  Object.entries(FLAGS).map(([name, kind]) => [
    name,
    {
      type: kind === "switch" ? "boolean" : "string",
      ...(kind === "list" ? { multiple: true } : {}),
      ...(name === "help" ? { short: "h" } : name === "version" ? { short: "v" } : {}),
    },
  ]),
);

const needsValue = (flag: string) => `${flag} needs a value: ${flag} VALUE or ${flag}=VALUE.`;

export function parseFlags(argv: readonly string[]): ParsedFlags {
  const values = new Map<FlagName, string[]>();
  const given = new Set<FlagName>();
  const problems: string[] = [];

  // parseArgs would take the next flag as the value of one left without it (`--role-name
  // --format json`), and then report the flag's own value as a stray argument: two wrong messages
  // for one mistake. Such a flag is set aside here and reported once.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && isFlag(name) && FLAGS[name] !== "switch" && (next === undefined || next.startsWith("--"))) {
      given.add(name);
      problems.push(needsValue(arg));
      continue;
    }
    args.push(arg);
  }

  const { tokens } = parseArgs({
    args,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let valueOfUnknown = -1;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      // `--bogus x`: x was meant as the unknown flag's value, already reported with it.
      if (token.index === valueOfUnknown) continue;
      problems.push(`Unexpected argument "${token.value}": every input is a --flag (see template --help).`);
      continue;
    }
    const { name, rawName } = token;
    if (!isFlag(name)) {
      problems.push(`Unknown flag ${rawName}.${suggestion(name)} template --help lists the flags.`);
      if (!token.inlineValue) valueOfUnknown = token.index + 1;
      continue;
    }
    given.add(name);
    const kind = FLAGS[name];
    if (kind === "switch") {
      const on = token.value === undefined ? "true" : token.value.toLowerCase();
      if (on === "true" || on === "false") values.set(name, [on]);
      else problems.push(`${rawName} takes no value (or =true/=false), not "${token.value}".`);
      continue;
    }
    const value = token.value?.trim() ?? "";
    if (value === "") {
      problems.push(needsValue(rawName));
      continue;
    }
    const list = values.get(name) ?? [];
    if (kind === "value" && list.length > 0) {
      problems.push(`${rawName} is given more than once; give it once.`);
      continue;
    }
    const items = COMMA_LISTS.has(name)
      ? value
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== "")
      : [value];
    values.set(name, [...list, ...items]);
  }
  return { values, given, problems };
}
