import path from "node:path";
import type { OutputFile } from "./outputs/files.js";
import type { Contribution } from "./outputs/render.js";
import { shellWord } from "./outputs/shell.js";

/**
 * The end of a successful run: what later commands in the step get (the names `env` sets and
 * unsets, the files written), then the `✔` line with the command to run next. Built from the
 * assembled outputs, so it can never describe files the run did not write.
 */

export const plural = (count: number, one: string, many: string): string => (count === 1 ? one : many);

const list = (names: readonly string[]): string =>
  names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;

export interface Success {
  /** The default credentials' assumed-role ARN: the one place a successful log prints it. */
  assumedRoleArn: string;
  profileNames: readonly string[];
  mode: string;
  expiration: Date;
  outputDir: string;
  outputDirDisplay: string;
  cwd: string;
  contributions: readonly Contribution[];
  files: readonly OutputFile[];
}

export function successLines(s: Success): { info: string[]; success: string } {
  const entries = s.contributions.flatMap((c) => c.env);
  const set = [...new Set(entries.filter((e) => !("unset" in e)).map((e) => e.name))];
  const unset = [...new Set(entries.filter((e) => "unset" in e).map((e) => e.name))];
  const relative = path.relative(s.cwd, path.join(s.outputDir, "env")) || "env";
  const envPath = path.isAbsolute(relative) || relative.startsWith("../") ? relative : `./${relative}`;
  const dir = s.outputDirDisplay.replace(/\/+$/, "") || "/";
  const info = [
    `${dir}/env sets ${list(set)}${unset.length > 0 ? `; it unsets ${list(unset)}` : ""}.`,
    `Written to ${dir}/: ${list(s.files.map((f) => f.name))}.`,
  ];
  const names = s.profileNames;
  const profiles =
    names.length === 0
      ? ""
      : ` and ${plural(names.length, "the profile", "the profiles")} ${names.join(", ")}`;
  const success = `AWS credentials for ${s.assumedRoleArn}${profiles} are ready (${s.mode}, until ${s.expiration.toISOString()}). Next in this step: . ${shellWord(envPath)}`;
  return { info, success };
}
