import type { Config } from "../config/parse.js";
import type { Feature } from "./feature.js";

/** The features this configuration turns on, loaded only when asked for (a plain run never evaluates their code). */
export async function featuresFor(config: Config): Promise<Feature[]> {
  const features: Array<Promise<Feature>> = [];
  if (config.codeartifact !== undefined)
    features.push(import("./codeartifact/index.js").then((m) => m.codeArtifactFeature));
  if (config.ecr !== undefined) features.push(import("./ecr.js").then((m) => m.ecrFeature));
  return Promise.all(features);
}
