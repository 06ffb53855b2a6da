import path from "node:path";
import { build } from "tsup";
import { bundleOptions, DEFAULT_CHAIN_STAND_IN } from "../../tsup.config.ts";

/** Builds the SDK floor into `outDir` with the pipe's own bundler settings; returns its entry. */
export async function buildSdkFloor(root: string, outDir: string): Promise<string> {
  await build({
    ...bundleOptions({
      entry: path.join(root, "bench/sdk-floor/run.ts"),
      outDir,
      standIns: DEFAULT_CHAIN_STAND_IN,
    }),
    config: false,
    silent: true,
  });
  return path.join(outDir, "index.js");
}
