import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, defineConfig, type Options } from "tsup";
import { BUNDLE_CLOSING, BUNDLE_FILE, BUNDLE_OPENING, IMPORT_META_URL } from "./src/launch/bundle.ts";

type Plugin = NonNullable<Options["esbuildPlugins"]>[number];

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * The names an ES module imports from `specifier` (`default` for a default import), or undefined
 * when it imports the whole namespace or re-exports from it, or when a statement cannot be read:
 * then the caller falls back to the module object. `import type` statements and `type` names
 * import nothing at run time.
 */
export function namesImported(source: string, specifier: string): Set<string> | undefined {
  const quoted = specifier.replace(/[/.]/g, "\\$&");
  const statement = new RegExp(
    `\\b(import|export)\\s+(type\\s+)?([^;]*?)\\s*from\\s*(["'])${quoted}\\4`,
    "g",
  );
  const names = new Set<string>();
  for (const [, verb, typeOnly, clause = ""] of source.matchAll(statement)) {
    if (typeOnly !== undefined) continue;
    if (verb === "export") return undefined;
    const parts = /^(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\})?$/.exec(clause.trim());
    if (parts === null) return undefined; // `* as ns`, or a clause this reading does not know
    if (parts[1] !== undefined) names.add("default");
    for (const item of (parts[2] ?? "").split(",")) {
      const [name = ""] = item.trim().split(/\s+as\s+/);
      if (name === "" || name.startsWith("type ")) continue;
      if (!/^[\w$]+$/.test(name)) return undefined;
      names.add(name);
    }
  }
  return names;
}

/**
 * Node builtins through `require`, not `import`: importing a builtin as ESM makes Node copy every
 * export, and `node:http`'s lazy getters then load Node's whole bundled undici (~50 ms on every
 * run, measured with --cpu-prof). A shim per importing module requires the builtin instead:
 * - for an ES module's `import { a, b } from "fs"`, an ES module that exports `a` and `b` read from
 *   the builtin, and nothing else. A CommonJS shim would do, but esbuild turns every `import`
 *   of a CommonJS module into a copy of its exports, asking for each one's property descriptor,
 *   and that loads what Node keeps lazy (node:util's parseArgs, diff and worker code, node:fs's
 *   promises, node:crypto's webcrypto): 39 copies took 11-13 ms of a run (Node 24, timed in a
 *   build of the same code);
 * - for `require`, a namespace import or a re-export, a CommonJS shim.
 */
const builtinsViaRequire: Plugin = {
  name: "builtins-via-require",
  setup(build) {
    // One shim per importing module: shared by several, a shim would get a chunk file of its own,
    // and each chunk file is one more module for Node's ESM loader on every run.
    build.onResolve({ filter: /^[a-z:_/]+$/ }, (args) =>
      builtins.has(args.path)
        ? {
            path: `${args.path}?${args.kind}&from=${args.importer}`,
            namespace: "builtin-require",
            pluginData: { kind: args.kind, importer: args.importer },
          }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => {
      const specifier = args.path.slice(0, args.path.indexOf("?"));
      const required = `__nodeRequire(${JSON.stringify(specifier)})`;
      const { kind, importer } = args.pluginData as { kind: string; importer: string };
      const names =
        kind === "import-statement" ? namesImported(readFileSync(importer, "utf8"), specifier) : undefined;
      if (names === undefined) return { contents: `module.exports = ${required};`, loader: "js" };
      const named = [...names].filter((name) => name !== "default");
      return {
        contents: [
          `const builtin = ${required};`,
          "export default builtin;",
          ...(named.length > 0 ? [`export const { ${named.join(", ")} } = builtin;`] : []),
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

/** Stand-ins for a package's functions, by export name. */
function unreachedProviders(exports: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(exports).map(([name, functions]) => [
      name,
      functions
        .map(
          (f) =>
            `export const ${f} = () => { throw new Error("bitbucket-aws-oidc: the staged files never need ${name}"); };`,
        )
        .join("\n"),
    ]),
  );
}

/**
 * Code the pipe never runs, replaced at build time so that no run pays to load or evaluate it:
 * - the SDK's default credential chain (environment, ini, SSO, login, IMDS, and the nested STS and
 *   SSO clients they need): every client gets its credentials passed explicitly, and
 *   AssumeRoleWithWebIdentity is unsigned;
 * - the providers `fromIni` and `fromTokenFile` load for kinds of profile the staged files never
 *   hold (SSO, login, process, environment, container and instance metadata), and the nested STS
 *   client they load when no role assumer is passed (the pipe passes its own);
 * - event streams, which no operation of STS, CodeArtifact or ECR has;
 * - pino's worker-thread transports, multistream and its file destination (sonic-boom, with the
 *   exit hook that only serves it): the pipe hands pino its own synchronous stream.
 * Each stand-in fails loudly if it is ever reached, so a change that starts needing one shows up
 * in the tests at once (the end-to-end tests run dist/). Besides the code, each package with a
 * dynamic import is one more entry point to esbuild, and each one cuts the shared SDK code into
 * more chunk files for a run to load (17 files before these stand-ins, 8 with them).
 */
const STAND_INS: Record<string, string> = {
  "@aws-sdk/credential-provider-node": `export const defaultProvider = () => async () => {
  throw new Error("bitbucket-aws-oidc passes credentials to every AWS client; the SDK default chain is not bundled");
};
export const credentialsWillNeedRefresh = () => false;
export const credentialsTreatedAsExpired = () => false;`,
  "sonic-boom": `module.exports = class SonicBoom {
  constructor() { throw new Error("bitbucket-aws-oidc passes pino its own stream; sonic-boom is not bundled"); }
};`,
  // pino requires these as it loads, for transports (with thread-stream, which only they require)
  // and multistream; with its own stream the pipe uses neither, and on-exit-leak-free only serves
  // sonic-boom.
  "pino/lib/transport.js": `module.exports = function transport() {
  throw new Error("bitbucket-aws-oidc does not bundle pino transports");
};`,
  "pino/lib/multistream.js": `module.exports = function multistream() {
  throw new Error("bitbucket-aws-oidc does not bundle pino multistream");
};`,
  "on-exit-leak-free": `const fail = () => { throw new Error("bitbucket-aws-oidc passes pino its own stream; on-exit-leak-free is not bundled"); };
module.exports = { register: fail, unregister: fail, registerBeforeExit: fail };`,
  ...unreachedProviders({
    "@aws-sdk/credential-provider-env": ["fromEnv"],
    "@aws-sdk/credential-provider-http": ["fromHttp"],
    "@smithy/credential-provider-imds": ["fromContainerMetadata", "fromInstanceMetadata"],
    "@aws-sdk/credential-provider-process": ["fromProcess"],
    "@aws-sdk/credential-provider-sso": ["fromSSO"],
    "@aws-sdk/credential-provider-login": ["fromLoginCredentials"],
    "@smithy/core/event-streams": ["EventStreamSerde", "eventStreamSerdeProvider"],
    "@aws-sdk/nested-clients/sts": ["getDefaultRoleAssumer", "getDefaultRoleAssumerWithWebIdentity"],
  }),
};
/**
 * The providers the pipe imports from `@aws-sdk/credential-providers`, the only ones its index
 * exports to the bundler, and loaded with it rather than on their first call.
 * - esbuild makes every dynamic import it scans an entry point, before tree shaking drops the code
 *   that holds it: the package's other providers (Cognito, instance metadata, temporary
 *   credentials...) would each add one, though no run can reach them.
 * - Each entry point cuts the SDK code it shares with the rest into chunks of its own, and a
 *   dynamic import is one more file to read in the middle of the run: `fromTokenFile` and
 *   `fromIni` import their packages that way when first called (and `fromIni` imports
 *   `fromTokenFile`'s for a web-identity profile). Here the same code imports them statically.
 * A provider added here, or a wrapper whose dynamic import is not the one expected, fails the
 * build, not a run.
 */
const USED_PROVIDERS = ["fromTokenFile", "fromIni"];
const DYNAMIC_IMPORT = /await import\(("@aws-sdk\/credential-provider-[a-z-]+")\)/g;
/** The wrappers, and fromIni's loader of fromTokenFile for web-identity profiles. */
const STATICALLY_IMPORTING =
  /@aws-sdk[\\/](credential-providers[\\/]dist-es[\\/](fromTokenFile|fromIni)|credential-provider-ini[\\/]dist-es[\\/]resolveWebIdentityCredentials)\.js$/;

const usedProvidersOnly: Plugin = {
  name: "used-providers-only",
  setup(build) {
    build.onLoad({ filter: /@aws-sdk[\\/]credential-providers[\\/]dist-es[\\/]index\.js$/ }, (args) => {
      const lines = readFileSync(args.path, "utf8").split("\n");
      const kept = lines.filter((line) =>
        USED_PROVIDERS.some((name) => line.startsWith(`export { ${name} }`)),
      );
      if (kept.length !== USED_PROVIDERS.length) {
        throw new Error(`${args.path} no longer exports ${USED_PROVIDERS.join(", ")} one per line`);
      }
      return { contents: kept.join("\n"), loader: "js" };
    });
    build.onLoad({ filter: STATICALLY_IMPORTING }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const imported = [...text.matchAll(DYNAMIC_IMPORT)].map((match) => match[1]);
      if (imported.length !== 1)
        throw new Error(`${args.path}: expected one dynamic import of a provider package`);
      // `await import(x)` becomes `provider`: the same module namespace, imported up front.
      return {
        contents: `import * as provider from ${imported[0]};\n${text.replace(DYNAMIC_IMPORT, "provider")}`,
        loader: "js",
      };
    });
  },
};

/**
 * pino's tools read `isMainThread` from node:worker_threads as they load, and use it only when they
 * open a sonic-boom file destination (a stand-in here: the pipe passes its own stream). Loading
 * node:worker_threads brings five more of Node's modules into every run (1.8 ms, timed around the
 * require). Read where it is used, the value is the same and a run loads none of them. If pino's
 * line changes, the build fails rather than bundling something else.
 */
const EAGER_MAIN_THREAD = "const { isMainThread } = require('worker_threads')";
const MAIN_THREAD_USE = /\bisMainThread\b/g;
export function pinoToolsReadingMainThreadOnUse(text: string): string {
  const uses = text.match(MAIN_THREAD_USE)?.length ?? 0;
  if (text.split(EAGER_MAIN_THREAD).length !== 2 || uses !== 2) {
    throw new Error(`pino/lib/tools.js: expected one \`${EAGER_MAIN_THREAD}\` and one use of it`);
  }
  return text
    .replace(EAGER_MAIN_THREAD, "")
    .replace(MAIN_THREAD_USE, "require('worker_threads').isMainThread");
}

const pinoReadsWorkerThreadsOnUse: Plugin = {
  name: "pino-reads-worker-threads-on-use",
  setup(build) {
    // The file namespace only: the builtins' shims carry their importer's path in theirs.
    build.onLoad({ filter: /pino[\\/]lib[\\/]tools\.js$/, namespace: "file" }, (args) => ({
      contents: pinoToolsReadingMainThreadOnUse(readFileSync(args.path, "utf8")),
      loader: "js",
    }));
  },
};

/**
 * Packages only an occasional command needs, bundled as CommonJS files of their own beside the
 * bundle and required from it (through the launcher's `require`, relative to bundle.js) when that
 * command first imports them: `yaml` (112 KB; only `template` renders YAML). Every byte of
 * bundle.js is read, and its code cache deserialised, on every run: with yaml and the ECR client
 * (173 KB) left out a plain run took 0.979 x the time (41 interleaved pairs, Node 24). A package
 * goes here only if no other code shares its classes or state (yaml takes plain objects).
 */
const BESIDE_BUNDLE = ["yaml"];
const besideBundle: Plugin = {
  name: "beside-bundle",
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${BESIDE_BUNDLE.join("|")})$`) }, (args) => ({
      path: `./${args.path}.js`,
      external: true,
    }));
  },
};

/** Self-contained, minified CommonJS files beside a bundle in `outDir`, one per entry. */
function filesBeside(outDir: string, entry: Record<string, string>): Options {
  return {
    entry,
    format: ["cjs"],
    outExtension: () => ({ js: ".js" }),
    platform: "node",
    target: "node20",
    outDir,
    clean: false,
    bundle: true,
    noExternal: [/.*/],
    splitting: false,
    minify: true,
    sourcemap: false,
    removeNodeProtocol: false,
    config: false,
    silent: true,
  };
}

/** The packages of BESIDE_BUNDLE, each one file in `outDir`. */
function besideOptions(outDir: string): Options {
  const resolve = createRequire(import.meta.url).resolve;
  return filesBeside(outDir, Object.fromEntries(BESIDE_BUNDLE.map((name) => [name, resolve(name)])));
}

/** The SDK's default credential chain only: what the benchmark's SDK floor may leave out too (it never reaches it). */
export const DEFAULT_CHAIN_STAND_IN = ["@aws-sdk/credential-provider-node"];

/** A stand-in is a package (by the name it is imported as) or a package's file (`<package>/<path>.js`, however it is required). */
const standInsFor = (names: readonly string[]): Plugin => ({
  name: "stand-ins",
  setup(build) {
    const escaped = (name: string) => name.replace(/[/.]/g, "\\$&");
    const packages = names.filter((name) => !name.endsWith(".js"));
    const files = names.filter((name) => name.endsWith(".js"));
    build.onResolve({ filter: new RegExp(`^(${packages.map(escaped).join("|")})$`) }, (args) => ({
      path: args.path,
      namespace: "stand-in",
    }));
    build.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({
      contents: STAND_INS[args.path] ?? "",
      loader: "js",
    }));
    if (files.length === 0) return;
    const file = new RegExp(`node_modules/(${files.map(escaped).join("|")})$`);
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const match = file.exec(args.path.replaceAll("\\", "/"));
      return match?.[1] === undefined ? undefined : { contents: STAND_INS[match[1]] ?? "", loader: "js" };
    });
  },
});

const LAUNCHER = fileURLToPath(new URL("src/launch/index.ts", import.meta.url));
const TRAINER = fileURLToPath(new URL("src/launch/train.ts", import.meta.url));

/**
 * The launcher (`index.js`) and the code cache's trainer (`train-code-cache.js`) beside a bundle:
 * small CommonJS files that Node loads as they are.
 */
function launchOptions(outDir: string): Options {
  const bundle = readFileSync(join(outDir, BUNDLE_FILE));
  return {
    ...filesBeside(outDir, { index: LAUNCHER, "train-code-cache": TRAINER }),
    // The user's code cache is named after the bundle's content (src/launch/userCache.ts).
    define: { BUNDLE_HASH: JSON.stringify(createHash("sha256").update(bundle).digest("hex").slice(0, 16)) },
    banner: { js: "#!/usr/bin/env node" },
  };
}

/**
 * How a command is built (src/launch/bundle.ts): its whole program as one classic script
 * (`bundle.js`: minified, Node builtins required lazily, the SDK's ES module builds, wrapped in a
 * function the launcher calls), then the launcher and the trainer beside it. One script rather
 * than ES module chunks, so that a code cache made after a whole run can hold every function the
 * run compiles: the image's runs take 0.92 × the time with it (bench/notes.md). Code a run may not
 * need (`template`, CodeArtifact, ECR) stays in functions V8 compiles only if they are called. The
 * pipe and the benchmark's SDK floor are built by this same function, so that their comparison
 * measures the code, not the build.
 */
export function bundleOptions(o: { entry: string; outDir: string; standIns: readonly string[] }): Options {
  return {
    entry: { bundle: o.entry },
    format: ["cjs"],
    outExtension: () => ({ js: ".js" }),
    platform: "node",
    target: "node20",
    outDir: o.outDir,
    clean: true,
    bundle: true,
    noExternal: [/.*/],
    splitting: false,
    minify: true,
    sourcemap: false,
    define: { PIPE_VERSION: JSON.stringify(version), "import.meta.url": IMPORT_META_URL },
    async onSuccess() {
      await build(launchOptions(o.outDir));
      await build(besideOptions(o.outDir));
      // Its own package.json makes the launcher CommonJS wherever the folder is copied, whatever
      // the package around it says.
      writeFileSync(join(o.outDir, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
    },
    // tsup would otherwise strip `node:` and mark those imports external.
    removeNodeProtocol: false,
    // The SDK's ES module builds: they tree-shake (no HTTP/2 handler, no unused commands), where the
    // CommonJS builds esbuild would take by default for Node do not.
    esbuildOptions(options) {
      options.mainFields = ["module", "main"];
    },
    esbuildPlugins: [
      standInsFor(o.standIns),
      usedProvidersOnly,
      pinoReadsWorkerThreadsOnUse,
      besideBundle,
      builtinsViaRequire,
    ],
    banner: { js: BUNDLE_OPENING },
    footer: { js: BUNDLE_CLOSING },
  };
}

// The image and `npx` run dist/index.js with no node_modules.
export default defineConfig(
  bundleOptions({ entry: "src/index.ts", outDir: "dist", standIns: Object.keys(STAND_INS) }),
);
