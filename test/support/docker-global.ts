/**
 * Vitest global setup for the tests that use Docker (test/support/docker.ts): gives the run a
 * folder where the first test file that needs Docker records the engine and the images it made,
 * and at the end stops the daemon this run started (or removes what it tagged in an engine it
 * found). A run without such tests starts nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { releaseDocker } from "./docker.ts";

export default async function setup(project: TestProject) {
  const runDir = await mkdtemp(path.join(tmpdir(), "bbtest-docker-"));
  project.provide("dockerRunDir", runDir);
  return async () => {
    try {
      await releaseDocker(runDir);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  };
}
