import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Bitbucket uploads `artifacts:` globs at the end of a step and keeps them for days: a glob that
 * matches OUTPUT_DIR would publish live credentials and the step's token. The pipe cannot stop
 * that, but it can say so. A line scanner rather than a YAML parser: it runs on every pipe run,
 * and the two forms of `artifacts:` (a list, or `paths:` under it) are plain to read.
 */
export function artifactGlobs(yaml: string): string[] {
  const globs: string[] = [];
  const lines = yaml.split("\n").map((line) => line.replace(/\r$/, ""));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const indent = indentOf(line);
    let head = line.slice(indent);
    if (head.startsWith("- ")) head = head.slice(2).trimStart();
    if (!head.startsWith("artifacts:")) continue;
    const inline = withoutComment(head.slice("artifacts:".length)).trim();
    if (inline.startsWith("[")) globs.push(...flowList(inline));
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j] ?? "";
      const body = next.trim();
      if (body === "" || body.startsWith("#")) continue;
      if (indentOf(next) <= indent) break;
      if (body.startsWith("- ")) globs.push(unquote(withoutComment(body.slice(2)).trim()));
      if (body.startsWith("paths:")) {
        const list = withoutComment(body.slice("paths:".length)).trim();
        if (list.startsWith("[") && list.endsWith("]")) globs.push(...flowList(list));
      }
    }
  }
  return globs.filter((glob) => glob !== "");
}

/** Leading blanks, counted without a regex: the file is the user's, and may be anything. */
const indentOf = (line: string): number => line.length - line.trimStart().length;

/** A YAML comment starts at a `#` after a blank (or at the start). */
function withoutComment(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "#" && (i === 0 || text[i - 1] === " " || text[i - 1] === "\t")) return text.slice(0, i);
  }
  return text;
}

const unquote = (value: string) => value.replace(/^(['"])(.*)\1$/, "$2");
const flowList = (value: string) =>
  value
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((item) => unquote(item.trim()));

/**
 * One step of a compiled glob: what one path character may do there. `stay` loops on the same
 * step (the `*` family), `next` moves on; `skip` lets the step match nothing at all.
 */
interface GlobStep {
  /** Characters this step consumes: one literal, any but `/`, or anything. */
  accepts: (c: string) => boolean;
  stay: boolean;
  skip: boolean;
  /** For `**` followed by `/`: the loop may only be left right after a `/`. */
  leaveAfterSlash: boolean;
}

const literal = (ch: string): GlobStep => ({
  accepts: (c) => c === ch,
  stay: false,
  skip: false,
  leaveAfterSlash: false,
});

/** Ant-style globs as Bitbucket reads them: `**` any depth, `*` within one folder, `?` one character. */
function compileGlob(glob: string): GlobStep[] {
  const steps: GlobStep[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      steps.push({ accepts: () => true, stay: true, skip: true, leaveAfterSlash: slash });
      i += slash ? 2 : 1;
    } else if (c === "*") {
      // Consecutive stars mean what one star means: folding them keeps the state set small.
      const previous = steps[steps.length - 1];
      if (previous?.stay && !previous.leaveAfterSlash && glob[i - 1] === "*") continue;
      steps.push({ accepts: (ch) => ch !== "/", stay: true, skip: true, leaveAfterSlash: false });
    } else if (c === "?") {
      steps.push({ accepts: (ch) => ch !== "/", stay: false, skip: false, leaveAfterSlash: false });
    } else steps.push(literal(c));
  }
  return steps;
}

/**
 * Whether `file` matches `glob`: a simulation of all positions in the glob at once (Thompson's
 * construction), never backtracking, so its time is the path's length times the glob's whatever
 * either holds. A leading `./` on either side is ignored.
 */
export function globMatches(glob: string, file: string): boolean {
  const steps = compileGlob(glob.replace(/^\.\//, ""));
  const text = file.replace(/^\.\//, "");
  const n = steps.length;
  // active[i]: the glob is at step i (entered fresh); looping[i]: inside a `**/` loop at i.
  let active = new Uint8Array(n + 1);
  let looping = new Uint8Array(n + 1);
  // A step already in the set brought its followers with it: stopping there keeps each character O(n).
  const enter = (set: Uint8Array, from: number) => {
    for (let i = from; i <= n && !set[i]; i++) {
      set[i] = 1;
      if (!steps[i]?.skip) break;
    }
  };
  enter(active, 0);
  for (let at = 0; at < text.length; at++) {
    const c = text[at] as string;
    const nextActive = new Uint8Array(n + 1);
    const nextLooping = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) {
      if (!active[i] && !looping[i]) continue;
      const step = steps[i] as GlobStep;
      if (!step.accepts(c)) continue;
      if (!step.stay) enter(nextActive, i + 1);
      else if (!step.leaveAfterSlash) enter(nextActive, i);
      else {
        nextLooping[i] = 1;
        if (c === "/") enter(nextActive, i + 1);
      }
    }
    active = nextActive;
    looping = nextLooping;
  }
  return active[n] === 1;
}

/** The `artifacts:` globs of the clone directory's bitbucket-pipelines.yml that would upload OUTPUT_DIR's files. */
export function artifactsExposing(cloneDir: string | undefined, outputDir: string): string[] {
  if (cloneDir === undefined) return [];
  // Read in one call, when the run is done: node:fs's callback readFile costs a first run ~1.5 ms
  // of set-up on the main thread (measured on Node 24), twenty times the read itself.
  let yaml: string;
  try {
    yaml = readFileSync(path.join(cloneDir, "bitbucket-pipelines.yml"), "utf8");
  } catch {
    return [];
  }
  const relative = path.relative(cloneDir, outputDir).split(path.sep).join("/");
  const probes = ["env", "web-identity-token"].map((name) => `${relative}/${name}`);
  return artifactGlobs(yaml).filter((glob) => probes.some((probe) => globMatches(glob, probe)));
}
