import { afterAll, beforeAll, beforeEach } from "vitest";
import { startWorld, type World } from "../world/index.ts";
import { makeCloneDir, TEST_REPOSITORY } from "./pipe.ts";

export interface StepWorld {
  world: World;
  /** `deploy` in the world's default account, trusting TEST_REPOSITORY. */
  roleArn: string;
  clone: { dir: string; remove: () => Promise<void> };
}

/**
 * The setup end-to-end files share: one test world per file with a role trusting the test
 * repository, every knob of the world reset before each test, and a fresh clone directory per
 * test (removed after it). `bind` receives the state whenever it changes; `prepare` adds roles.
 */
export function useStepWorld(
  bind: (state: StepWorld) => void,
  prepare: (world: World) => void | Promise<void> = () => {},
): void {
  const state = {} as StepWorld;
  beforeAll(async () => {
    state.world = await startWorld();
    state.roleArn = state.world.allowRepository(TEST_REPOSITORY, { roleName: "deploy" });
    await prepare(state.world);
    bind(state);
  });
  afterAll(async () => {
    await state.world?.close();
  });
  beforeEach(async () => {
    const { world } = state;
    world.clearRequests();
    world.clearFaults();
    world.setLatency(0);
    world.setClockOffset(0);
    world.setThrottle(undefined);
    world.setSourceIp(undefined);
    world.ecr.setProxyEndpoint(undefined);
    state.clone = await makeCloneDir();
    bind(state);
    return () => state.clone.remove();
  });
}
