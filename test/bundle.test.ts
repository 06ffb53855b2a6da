/**
 * How the bundle reaches Node's builtins (tsup.config.ts): an ES module's named imports read only
 * the names it imports, so that what Node keeps lazy stays unloaded, and every import form still
 * gets the builtin it asked for.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "tsup";
import { describe, expect, it } from "vitest";
import { bundleOptions, namesImported, pinoToolsReadingMainThreadOnUse } from "../tsup.config.ts";
import { shippedNode } from "./support/docker.ts";
import { PIPE, ROOT } from "./support/pipe.ts";
import { useTempDir } from "./support/tempDir.ts";

describe("namesImported", () => {
  it("reads named, renamed and default imports, and skips types", () => {
    const source = [
      'import fs, { readFileSync, writeFileSync as write } from "node:fs";',
      'import { type ParseArgsConfig, parseArgs } from "node:util";',
      'import type { Stats } from "node:fs";',
      'import {\n  mkdirSync,\n  rmSync,\n} from "node:fs";',
      'import { join } from "node:path";',
    ].join("\n");
    expect(namesImported(source, "node:fs")).toEqual(
      new Set(["default", "readFileSync", "writeFileSync", "mkdirSync", "rmSync"]),
    );
    expect(namesImported(source, "node:util")).toEqual(new Set(["parseArgs"]));
    // A specifier is matched whole: "fs" is not "node:fs", "node:fs" is not "node:fs/promises".
    expect(namesImported(source, "fs")).toEqual(new Set());
    expect(namesImported('import { readFile } from "node:fs/promises";', "node:fs")).toEqual(new Set());
  });

  it("gives up on forms that need the whole module", () => {
    expect(namesImported('import * as os from "node:os";', "node:os")).toBeUndefined();
    expect(namesImported('export { EOL } from "node:os";', "node:os")).toBeUndefined();
    expect(namesImported('export * from "node:os";', "node:os")).toBeUndefined();
    expect(namesImported('import { "EOL" as eol } from "node:os";', "node:os")).toBeUndefined();
  });
});

describe("a bundle's builtin imports", () => {
  const dir = useTempDir("bundle-");

  // On the Node the image ships: Node 20 keeps fewer of these parts lazy, and shows no difference.
  it("load what a plain require of the same names loads, and give each form its builtin", async () => {
    const node = await shippedNode();
    const entry = path.join(dir(), "entry.ts");
    writeFileSync(
      entry,
      [
        'import { parseArgs } from "node:util";',
        'import fs, { readFileSync } from "node:fs";',
        'import * as os from "node:os";',
        "const { values } = parseArgs({ args: ['--a', 'b'], options: { a: { type: 'string' } } });",
        "process.stdout.write(JSON.stringify({",
        "  parsed: values.a, sameFs: fs.readFileSync === readFileSync, eol: os.EOL,",
        "  loaded: process.moduleLoadList,",
        "}));",
      ].join("\n"),
    );
    const outDir = path.join(dir(), "out");
    await build({
      ...bundleOptions({ entry, outDir, standIns: [] }),
      config: false,
      silent: true,
    });
    const bundled = JSON.parse(execFileSync(node, [path.join(outDir, "index.js")], { encoding: "utf8" }));
    expect(bundled).toMatchObject({ parsed: "b", sameFs: true, eol: "\n" });

    // The same names, required by hand from an ES module.
    const plain = path.join(dir(), "plain.mjs");
    writeFileSync(
      plain,
      [
        'import { createRequire } from "node:module";',
        "const require = createRequire(import.meta.url);",
        'const { parseArgs } = require("node:util");',
        'const fs = require("node:fs"); const os = require("node:os");',
        // What the launcher itself loads to run the bundle.
        'require("node:vm");',
        "parseArgs({ args: ['--a', 'b'], options: { a: { type: 'string' } } }); void fs.readFileSync; void os.EOL;",
        "process.stdout.write(JSON.stringify(process.moduleLoadList));",
      ].join("\n"),
    );
    const byHand = new Set(JSON.parse(execFileSync(node, [plain], { encoding: "utf8" })) as string[]);
    // An `import` turned into a copy of the module's exports would load node:util's and node:fs's
    // lazy parts (streams, diff, workers...) here.
    expect((bundled.loaded as string[]).filter((name) => !byHand.has(name))).toEqual([]);
  });
});

describe("pino's tools in the bundle", () => {
  const tools = readFileSync(path.join(ROOT, "node_modules/pino/lib/tools.js"), "utf8");

  it("read isMainThread where sonic-boom's destination uses it, not as they load", () => {
    const read = pinoToolsReadingMainThreadOnUse(tools);
    expect(read).not.toContain("const { isMainThread }");
    expect(read.match(/require\('worker_threads'\)/g)).toHaveLength(1);
    expect(read).toContain("!opts.sync && require('worker_threads').isMainThread");
  });

  it("fail the build when pino reads it another way", () => {
    const changed = tools.replace("require('worker_threads')", "require('node:worker_threads')");
    expect(() => pinoToolsReadingMainThreadOnUse(changed)).toThrow(/expected one/);
  });
});

describe("a pipe run from dist/", () => {
  const dir = useTempDir("bundle-run-");

  // What no plain run uses: pino's worker-thread check and the claims command's argument parser.
  it("loads neither node:worker_threads nor node:util's parseArgs", async () => {
    const node = await shippedNode();
    const preload = path.join(dir(), "loaded.cjs");
    const list = path.join(dir(), "loaded.json");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));`,
    );
    // --version loads every module a run loads before its first request: the bundle evaluates the
    // entry's static imports before the CLI reads its arguments.
    execFileSync(node, ["-r", preload, PIPE, "--version"], { env: { PATH: process.env.PATH } });
    const loaded = JSON.parse(readFileSync(list, "utf8")) as string[];
    expect(loaded).toContain("NativeModule https");
    expect(loaded.filter((name) => /worker_threads|internal\/worker$|parse_args/.test(name))).toEqual([]);
  });
});
