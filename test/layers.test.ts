/**
 * The shape of src/ (ENGINEERING.md, "The path of one run" and the layout): imports point down
 * and never back up, and no import circle. Every `import`, `import type`, `export … from` and
 * dynamic `import()` between files of src/ counts. Also: no file over 300 lines, and every module
 * over 60 lines has a unit test named after it (test/ mirrors src/).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/pipe.ts";

const SRC = path.join(ROOT, "src");

/**
 * The layers, highest first; a file may import files of its own layer or of a lower one. Drawn from
 * the code as it is (each layer imports only what is below it):
 * - launch: the built program's launcher and its code cache's trainer, which run the bundle from
 *   its file and import nothing of the program;
 * - entry: the bundle's entry: the CLI, then the exit;
 * - cli: command dispatch, error kind -> exit code, the ✔/✖ lines (only it knows exit codes);
 * - commands: the pipe's run (its stages, in order), `claims`, `template`;
 * - stages: what a run does after parsing: the role session, the proofs of the staged files, the
 *   features (CodeArtifact, ECR), the success summary. Types live with their producer (the
 *   session's NamedRole, Config in config/, Claims in token.ts, AssumedRole in aws/); what the
 *   outputs take from the stages is the outputs' own input (Contribution, OutputFile, EnvEntry),
 *   defined where they read it, so the stages import the outputs and never the other way;
 * - outputs: the pure renderers, the output folder's checks and the one writer of credential
 *   files: they know no network;
 * - diagnoses: what to fix, from a refusal and the claims (uses the trust conditions and the AWS
 *   error classification);
 * - base: config (env -> Config), token (-> Claims), trust conditions, the log, and aws/ (the SDK
 *   clients, error classification, the one retry policy); these never import each other upward:
 *   config and aws do not know each other, trust only reads token's Claims;
 * - leaves: errors, answers' shapes, redaction, printable text, small helpers: they import nothing
 *   of src/ but each other.
 */
const LAYERS: Array<[layer: string, files: RegExp]> = [
  ["launch", /^launch\/.*$/],
  ["entry", /^index\.ts$/],
  ["cli", /^cli\.ts$/],
  ["commands", /^(pipe\.ts|claims\.ts|template\/.*)$/],
  ["stages", /^(session\.ts|proofs\.ts|summary\.ts|features\/.*)$/],
  ["outputs", /^outputs\/.*$/],
  ["diagnoses", /^diagnose\.ts$/],
  ["base", /^(config\/.*|token\.ts|trust\.ts|log\.ts|aws\/.*)$/],
  ["leaves", /^(errors|answers|redact|printable|endpointUrl|lazyBuiltin|artifacts)\.ts$|^types\//],
];

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.relative(SRC, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();

const FILES = sourceFiles(SRC);

/** The src/ files a file imports, by path relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) =>
      path.posix.normalize(path.posix.join(path.posix.dirname(file), name)).replace(/\.js$/, ".ts"),
    );
}

const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

const layerOf = (file: string): number => LAYERS.findIndex(([, files]) => files.test(file));

describe("imports in src/", () => {
  it("resolve to files of src/ (so that this test sees every one)", () => {
    const missing = [...GRAPH].flatMap(([file, targets]) =>
      targets.filter((t) => !GRAPH.has(t)).map((t) => `${file} -> ${t}`),
    );
    expect(missing).toEqual([]);
    expect(GRAPH.get("cli.ts")).toContain("template/index.ts"); // dynamic import() counts
    expect(GRAPH.get("features/index.ts")).toContain("config/parse.ts"); // import type counts
  });

  it("every file has a layer", () => {
    expect(FILES.filter((file) => layerOf(file) < 0)).toEqual([]);
  });

  it("point down or sideways, never up a layer", () => {
    const upward = [...GRAPH].flatMap(([file, targets]) =>
      targets
        .filter((t) => GRAPH.has(t) && layerOf(t) < layerOf(file))
        .map((t) => `${file} (${LAYERS[layerOf(file)]?.[0]}) -> ${t} (${LAYERS[layerOf(t)]?.[0]})`),
    );
    // No exceptions: an import that points up is fixed by moving what it takes to its producer.
    expect(upward).toEqual([]);
  });

  it("form no circle", () => {
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const target of GRAPH.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, "done");
    };
    for (const file of FILES) visit(file, []);
    expect(circles).toEqual([]);
  });
});

describe("the layer check itself", () => {
  it("would see a circle and an upward import", () => {
    const edges = ts.preProcessFile(
      'import type { A } from "./a.js";\nconst b = import("../b.js");',
      true,
      true,
    );
    expect(edges.importedFiles.map((f) => f.fileName)).toEqual(["./a.js", "../b.js"]);
    expect(layerOf("pipe.ts")).toBeLessThan(layerOf("session.ts"));
    expect(layerOf("outputs/files.ts")).toBeLessThan(layerOf("aws/sts.ts"));
  });
});

describe("files in src/", () => {
  it("read on a screen or two: at most 300 lines each", () => {
    const long = FILES.map(
      (file) => [file, readFileSync(path.join(SRC, file), "utf8").split("\n").length - 1] as const,
    )
      .filter(([, lines]) => lines > 300)
      .map(([file, lines]) => `${file}: ${lines}`);
    expect(long).toEqual([]);
  });

  it("each over 60 lines has its unit test, named after it: test/<same path>.test.ts", () => {
    const untested = FILES.filter(
      (file) =>
        readFileSync(path.join(SRC, file), "utf8").split("\n").length - 1 > 60 &&
        !existsSync(path.join(ROOT, "test", file.replace(/\.ts$/, ".test.ts"))),
    );
    expect(untested).toEqual([]);
  });
});
