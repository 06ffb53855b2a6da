/** The package's version, put in by the build (tsup.config.ts) and by vitest.config.ts. */
declare const PIPE_VERSION: string;
