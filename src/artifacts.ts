import { readFile } from "node:fs";
import path from "node:path";

/**
 * Bitbucket uploads `artifacts:` globs at the end of a step and keeps them for days: a glob that
 * matches OUTPUT_DIR would publish live credentials and the step's token. The pipe cannot stop
 * that, but it can say so. A line scanner rather than a YAML parser: it runs on every pipe run,
 * and the two forms of `artifacts:` (a list, or `paths:` under it) are plain to read.
 */
export function artifactGlobs(yaml: string): string[] {
  const globs: string[] = [];
  const lines = yaml.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const head = /^(\s*)(?:-\s+)?artifacts:\s*(.*)$/.exec(lines[i] ?? "");
    if (!head) continue;
    const indent = (head[1] ?? "").length;
    const inline = head[2]?.replace(/\s+#.*$/, "").trim() ?? "";
    if (inline.startsWith("[")) globs.push(...flowList(inline));
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] ?? "";
      if (line.trim() === "" || line.trim().startsWith("#")) continue;
      if ((/^(\s*)/.exec(line)?.[1] ?? "").length <= indent) break;
      const item = /^\s*-\s+(.+?)\s*(?:\s#.*)?$/.exec(line);
      if (item?.[1]) globs.push(unquote(item[1]));
      const paths = /^\s*paths:\s*(\[.*\])\s*$/.exec(line);
      if (paths?.[1]) globs.push(...flowList(paths[1]));
    }
  }
  return globs.filter((glob) => glob !== "");
}

const unquote = (value: string) => value.replace(/^(['"])(.*)\1$/, "$2");
const flowList = (value: string) =>
  value
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((item) => unquote(item.trim()));

/** Ant-style globs as Bitbucket reads them: `**` any depth, `*` within one folder. */
export function globToRegExp(glob: string): RegExp {
  let pattern = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      pattern += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") pattern += "[^/]*";
    else if (c === "?") pattern += "[^/]";
    else pattern += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^(?:\\./)?${pattern}$`);
}

/** The `artifacts:` globs of the clone directory's bitbucket-pipelines.yml that would upload OUTPUT_DIR's files. */
export async function artifactsExposing(cloneDir: string | undefined, outputDir: string): Promise<string[]> {
  if (cloneDir === undefined) return [];
  // node:fs's callback form: node:fs/promises would be one more module to load (~1.7 ms on Node 24).
  const yaml = await new Promise<string | undefined>((resolve) =>
    readFile(path.join(cloneDir, "bitbucket-pipelines.yml"), "utf8", (error, text) =>
      resolve(error ? undefined : text),
    ),
  );
  if (yaml === undefined) return [];
  const relative = path.relative(cloneDir, outputDir).split(path.sep).join("/");
  const probes = ["env", "web-identity-token"].map((name) => `${relative}/${name}`);
  return artifactGlobs(yaml).filter((glob) => probes.some((probe) => globToRegExp(glob).test(probe)));
}
