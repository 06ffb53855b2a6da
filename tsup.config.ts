import { readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { defineConfig, type Options } from "tsup";

type Plugin = NonNullable<Options["esbuildPlugins"]>[number];

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * Node builtins through `require`, not `import`: importing a builtin as ESM makes Node copy every
 * export, and `node:http`'s lazy getters then load Node's whole bundled undici (~50 ms on every
 * run, measured with --cpu-prof). A CommonJS shim per builtin keeps them lazy.
 */
const builtinsViaRequire: Plugin = {
  name: "builtins-via-require",
  setup(build) {
    // One shim per importing module: shared by several, a shim would get a chunk file of its own,
    // and each chunk file is one more module for Node's ESM loader on every run.
    build.onResolve({ filter: /^[a-z:_/]+$/ }, (args) =>
      builtins.has(args.path)
        ? { path: `${args.path}?from=${args.importer}`, namespace: "builtin-require" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({
      contents: `module.exports = __nodeRequire(${JSON.stringify(args.path.split("?")[0])});`,
      loader: "js",
    }));
  },
};

/**
 * Code the pipe never runs, replaced at build time so that no run pays to evaluate it:
 * - the SDK's default credential chain (environment, ini, SSO, login, IMDS, and the nested STS and
 *   SSO clients they need): every client gets its credentials passed explicitly, and
 *   AssumeRoleWithWebIdentity is unsigned;
 * - pino's worker-thread transports and its file destination (sonic-boom): the pipe hands pino
 *   its own synchronous stream, so pino never builds either.
 * Each stand-in fails loudly if it is ever reached, so a change that starts needing one shows up
 * in the tests at once.
 */
const STAND_INS: Record<string, string> = {
  "@aws-sdk/credential-provider-node": `export const defaultProvider = () => async () => {
  throw new Error("bitbucket-aws-oidc passes credentials to every AWS client; the SDK default chain is not bundled");
};
export const credentialsWillNeedRefresh = () => false;
export const credentialsTreatedAsExpired = () => false;`,
  "thread-stream": `module.exports = class ThreadStream {
  constructor() { throw new Error("bitbucket-aws-oidc does not bundle pino transports"); }
};`,
  "sonic-boom": `module.exports = class SonicBoom {
  constructor() { throw new Error("bitbucket-aws-oidc passes pino its own stream; sonic-boom is not bundled"); }
};`,
};
/** The SDK's default credential chain only: what the benchmark's SDK floor may leave out too (it never reaches it). */
export const DEFAULT_CHAIN_STAND_IN = ["@aws-sdk/credential-provider-node"];

const standInsFor = (names: readonly string[]): Plugin => ({
  name: "stand-ins",
  setup(build) {
    const escaped = names.map((name) => name.replace(/[/.]/g, "\\$&"));
    build.onResolve({ filter: new RegExp(`^(${escaped.join("|")})$`) }, (args) => ({
      path: args.path,
      namespace: "stand-in",
    }));
    build.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({
      contents: STAND_INS[args.path] ?? "",
      loader: "js",
    }));
  },
});

/**
 * How a command is bundled: one self-contained ESM bundle split into chunks, minified, Node
 * builtins required lazily, the SDK's ES module builds. The pipe and the benchmark's SDK floor are
 * built by this same function, so that their comparison measures the code, not the build.
 */
export function bundleOptions(o: {
  entry: Record<string, string>;
  outDir: string;
  standIns: readonly string[];
}): Options {
  return {
    entry: o.entry,
    format: ["esm"],
    platform: "node",
    target: "node20",
    outDir: o.outDir,
    clean: true,
    bundle: true,
    noExternal: [/.*/],
    splitting: true,
    minify: true,
    sourcemap: false,
    define: { PIPE_VERSION: JSON.stringify(version) },
    async onSuccess() {
      // Its own package.json marks the chunks as ES modules, so Node neither guesses nor parses
      // them twice, wherever the folder is copied.
      writeFileSync(`${o.outDir}/package.json`, `${JSON.stringify({ type: "module" })}\n`);
    },
    // tsup would otherwise strip `node:` and mark those imports external, as plain ESM imports.
    removeNodeProtocol: false,
    // The SDK's ES module builds: they tree-shake (no HTTP/2 handler, no unused commands), where the
    // CommonJS builds esbuild would take by default for Node do not.
    esbuildOptions(options) {
      options.mainFields = ["module", "main"];
    },
    esbuildPlugins: [standInsFor(o.standIns), builtinsViaRequire],
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module'; const __nodeRequire = __createRequire(import.meta.url); const require = __nodeRequire;",
    },
  };
}

// The image and `npx` run dist/index.js with no node_modules. `template`, CodeArtifact and ECR are
// loaded on demand, so a plain pipe run never evaluates their code.
export default defineConfig(
  bundleOptions({ entry: { index: "src/index.ts" }, outDir: "dist", standIns: Object.keys(STAND_INS) }),
);
