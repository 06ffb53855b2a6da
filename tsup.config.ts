import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

// One self-contained ESM bundle: the image and `npx` run dist/index.js with no node_modules.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  bundle: true,
  noExternal: [/.*/],
  // `template` is loaded on demand, so a pipe run never evaluates its code.
  splitting: true,
  minify: true,
  sourcemap: false,
  define: { PIPE_VERSION: JSON.stringify(version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __pipeRequire } from 'node:module'; const require = __pipeRequire(import.meta.url);",
  },
});
