/** The package's version, put in by the build (tsup.config.ts) and by vitest.config.ts. */
declare const PIPE_VERSION: string;
/** The first 16 hex digits of dist/bundle.js's SHA-256, put in the launcher by the build (tsup.config.ts). */
declare const BUNDLE_HASH: string;
