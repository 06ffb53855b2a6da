import path from "node:path";
import { hasControl } from "../printable.js";
import { type Problems, read, shown } from "./read.js";
import { REGISTRY, VARIABLES } from "./variables.js";

/** OUTPUT_DIR: where the files go, and what makes a folder safe to write them in. */

export const DEFAULT_OUTPUT_DIR = REGISTRY.outputDir.default ?? ".aws-oidc";
/** Linux's PATH_MAX is 4096 with the clone dir's own path in it; NAME_MAX is 255 on every common file system. */
const OUTPUT_DIR_MAX = 1024;
const PATH_COMPONENT_MAX = 255;

export interface OutputDir {
  /** Absolute path. */
  outputDir: string;
  /** As the user wrote it, relative to the working directory: used in messages. */
  display: string;
}

export function resolveOutputDir(env: NodeJS.ProcessEnv, cwd: string, problems: Problems): OutputDir {
  const display = read(env, VARIABLES.outputDir) ?? DEFAULT_OUTPUT_DIR;
  if (hasControl(display)) {
    problems.add(`${VARIABLES.outputDir} must be a folder path on one line, got ${shown(display)}.`);
  }
  const longest = Math.max(...display.split("/").map((part) => part.length));
  if (display.length > OUTPUT_DIR_MAX || longest > PATH_COMPONENT_MAX) {
    // Never echoed: the path is long by definition, and may be anything.
    problems.add(
      `${VARIABLES.outputDir} is ${display.length} characters long${longest > PATH_COMPONENT_MAX ? ` with a folder name of ${longest}` : ""}; it may have at most ${OUTPUT_DIR_MAX}, and at most ${PATH_COMPONENT_MAX} per folder name.`,
    );
    return { outputDir: path.resolve(cwd, DEFAULT_OUTPUT_DIR), display: DEFAULT_OUTPUT_DIR };
  }
  const outputDir = path.resolve(cwd, display);
  const cloneDir = read(env, VARIABLES.cloneDir);
  if (cloneDir !== undefined) {
    const relative = path.relative(path.resolve(cloneDir), outputDir);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
      problems.add(
        `${VARIABLES.outputDir} (${display}) must be a folder inside BITBUCKET_CLONE_DIR (${cloneDir}), the only folder the pipe and the build container share.`,
      );
    }
  }
  return { outputDir, display };
}

/** Why the SDKs' INI parser could not read `value` back as written (undefined: it can). */
export function iniValueProblem(value: string): string | undefined {
  if (hasControl(value)) return "a line break or another control character";
  if (value !== value.trim()) return "leading or trailing blanks";
  if (/\s[;#]/.test(value)) return "a blank followed by ; or #, which starts a comment";
  return undefined;
}

/**
 * In a profile run the SDKs find the token file through aws-config: a path they would read back
 * differently is refused now, not after every AWS call.
 */
export function checkIniSafe({ outputDir, display }: OutputDir, problems: Problems): void {
  const why = iniValueProblem(path.join(outputDir, "web-identity-token"));
  if (why !== undefined && !hasControl(display)) {
    problems.add(
      `${VARIABLES.outputDir} (${display}) cannot be written into aws-config, which a profile run needs: its path has ${why}. Choose a folder name without it.`,
    );
  }
}
